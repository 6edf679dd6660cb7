import { initBackend } from '../../../src/core/backend/backend';

/** Tests run on the fallback backend (GAN_TEST_BACKEND overrides: wasm | cpu). */
export async function useTestBackend(): Promise<string> {
  const want = (process.env.GAN_TEST_BACKEND ?? 'wasm') as 'wasm' | 'cpu';
  const info = await initBackend(want);
  return info.name;
}
