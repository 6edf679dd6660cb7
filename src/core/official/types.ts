/**
 * What an official StyleGAN2-ADA / GGDR `network-snapshot-*.pkl` holds once read by our safe
 * unpickler (./pickle): inert data only — no Python object is ever constructed, no code run.
 *
 * Each persistent network class of the official code (`torch_utils.persistence`) is pickled as
 * `{class_name, module_src, state}`; `state` is the torch.nn.Module `__dict__`. We keep the class
 * name, the module's own attributes (resolution, architecture, conv_clamp, gains, `_init_kwargs`, …)
 * as plain JS values, and its parameters, buffers and child modules.
 */

/** Element types a torch storage can have in an official pickle. */
export type TorchDType = 'float32' | 'float16' | 'float64' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A tensor with its values copied (or viewed) into a contiguous row-major array. Floats are float32. */
export interface TorchTensor {
  /** The storage's own dtype (float16/float64 values are converted to float32 in `data`). */
  dtype: TorchDType;
  shape: number[];
  /** Contiguous, row-major (PyTorch's NCHW / [out,in,kh,kw] order as saved). */
  data: Float32Array | Int32Array | Uint8Array;
}

/** A plain value of a module's attributes: numbers (numpy scalars become numbers), strings, … */
export type PyPlain = null | boolean | number | bigint | string | PyPlain[] | { [k: string]: PyPlain } | TorchTensor;

/** One persistent module (e.g. class_name 'SynthesisLayer'). */
export interface OfficialModule {
  className: string;
  /** The module's own attributes (not parameters/buffers/children). Tuples and lists are arrays, dicts are objects. */
  attrs: Record<string, PyPlain>;
  /** `_parameters`; a parameter registered as None is null. */
  params: Record<string, TorchTensor | null>;
  /** `_buffers` (resample_filter, noise_const, w_avg, …). */
  buffers: Record<string, TorchTensor | null>;
  /** `_modules`, in registration order. */
  modules: Record<string, OfficialModule | null>;
}

/** The dict a StyleGAN2-ADA / GGDR training loop pickles as a snapshot. */
export interface OfficialCheckpoint {
  file: string;
  G?: OfficialModule;
  G_ema?: OfficialModule;
  D?: OfficialModule;
  augmentPipe?: OfficialModule;
  trainingSetKwargs?: Record<string, PyPlain>;
  /** Size of the file in bytes. */
  bytes: number;
}
