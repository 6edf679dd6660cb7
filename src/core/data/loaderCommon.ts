/** Rules every dataset loader shares: accepted files, the memory cap, the fixed subset seed. */
import { UserError } from '../errors';
import type { Dataset } from './dataset';

/** What a loader returns: a Dataset before x-flip doubling is applied. */
export type LoadedImages = Omit<Dataset, 'xflip' | 'length'>;

/** File extensions taken from folders and zips (the content is then checked by signature). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];
/** Largest in-memory dataset (bytes at model resolution). */
export const MAX_DATASET_BYTES = 2 * 1024 ** 3;
/** The fixed seed of subset selection and of MNIST's canonical order (independent of the run seed). */
export const SUBSET_SEED = 0x5eed;
/** The hint of every 'not a dataset' error. */
export const HINT_SPEC = "Use 'mnist', a folder of PNG/JPEG images, or a StyleGAN2-ADA dataset .zip (dataset_tool.py output).";

/** Throws a UserError when `count` images of `per` bytes exceed MAX_DATASET_BYTES. */
export function checkMemory(count: number, per: number): void {
  if (count * per > MAX_DATASET_BYTES) {
    const fit = Math.floor(MAX_DATASET_BYTES / per);
    throw new UserError(
      `Dataset too large for memory: ${count} images at this resolution need ${((count * per) / 1024 ** 3).toFixed(1)} GiB.`,
      `Set maxImages to at most ${fit}, or lower the resolution.`,
    );
  }
}
