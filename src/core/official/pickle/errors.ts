/**
 * Errors of the safe unpickler. Every one names the file; a refused global names the global, so the
 * user knows what kind of pickle this is and nothing of it was executed.
 */
import { UserError } from '../../errors';

export class PickleError extends UserError {
  constructor(message: string, readonly file: string, hint?: string) {
    super(`${file}: ${message}`, hint);
  }
}

/** A pickle asked for a callable or class that is not on the allow-list (nothing was executed). */
export class ForbiddenGlobalError extends PickleError {
  constructor(readonly global: string, file: string, what = describeGlobal(global)) {
    super(what, file, 'GAN Inspector reads StyleGAN2-ADA / GGDR network pickles (and torch.save tensors) without executing anything; other pickles are refused.');
  }
}

function describeGlobal(g: string): string {
  if (g.startsWith('dnnlib.tflib') || g.startsWith('tensorflow')) return `TensorFlow-era StyleGAN2 pickle: it references ${g}. Convert it with the official stylegan2-ada-pytorch legacy.py first.`;
  if (/^(posix|nt|os|subprocess|builtins|__builtin__|sys|importlib|runpy|shutil|socket|pty|code|pickle)\./.test(g)) {
    return `refused to load: the pickle references ${g}, which would run code. Nothing was executed.`;
  }
  return `unsupported pickle: it references ${g}, which is not one of the classes of an official StyleGAN2-ADA / GGDR checkpoint. Nothing was executed.`;
}
