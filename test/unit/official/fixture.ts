import * as fs from 'node:fs';
import * as path from 'node:path';
import { readNpy, type NpyArray } from '../../../src/core/util/npy';

/** The official-GGDR fixture lives beside the repository (../shared), never inside it. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURE_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'official-ggdr-pkl');
export const FIXTURE_PKL = path.join(FIXTURE_DIR, 'training-runs', '00000-mnist32-cifar-kimg5-batch16', 'network-snapshot-000005.pkl');
export const REFERENCE_DIR = path.join(FIXTURE_DIR, 'reference-outputs');

/** Throws (so the test fails, loudly) when the fixture is absent; CI always has it. */
export function requireFixture(): void {
  if (!fs.existsSync(FIXTURE_PKL) || !fs.existsSync(path.join(REFERENCE_DIR, 'manifest.json'))) {
    throw new Error(`The official-GGDR fixture is missing: expected ${FIXTURE_PKL} and ${REFERENCE_DIR}/manifest.json ` +
      '(../shared/fixtures/official-ggdr-pkl beside the repository). These tests cannot run without it.');
  }
}

/** A reference array from reference-outputs/. */
export function reference(name: string): NpyArray {
  requireFixture();
  return readNpy(path.join(REFERENCE_DIR, name));
}
