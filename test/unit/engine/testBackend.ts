import { initBackend } from '../../../src/core/backend/backend';

/** Backend of the tests: the fallback one (GAN_TEST_BACKEND overrides: wasm | cpu). */
export const TEST_BACKEND = (process.env.GAN_TEST_BACKEND ?? 'wasm') as 'wasm' | 'cpu';

/** Starts TEST_BACKEND; returns its name. */
export async function useTestBackend(): Promise<string> {
  const info = await initBackend(TEST_BACKEND);
  return info.name;
}
