/**
 * Analytic FLOP count of one GanTrainer step, from the architecture in src/core/networks/*.ts.
 *
 * Convention ("model FLOPs", as fvcore/PyTorch's flop counters count): only layers with weights —
 * convolutions, dense layers, the style affines and the demodulation matmul — at 2 FLOPs per
 * multiply-accumulate. Elementwise ops, up/downsampling, minibatch-stddev, Adam and G_ema are left out.
 *
 *   M_G      forward MACs of G for a batch (mapping + synthesis incl. toRGB)
 *   M_Denc   forward MACs of D's encoder + epilogue;  M_rgb = its fromRGB layer;  M_dec = GGDR decoder
 *   backward of a layer = 2× its forward (dX and dW), 1× when only one of them is needed
 *
 *   Gmain = 3·M_G + 2·M_Denc + M_map          (G: fwd+dX+dW; D: fwd+dX only; w_avg re-maps z)
 *   Dmain = M_G + 2·(3·M_Denc − M_rgb) + 3·M_dec·[GGDR]   (fakes+features without grad; D on fakes and
 *                                              on reals: fwd+dX+dW, no dX into the images)
 *   Dreg  = 4·M_Denc every r1Interval steps   (fwd, dX to the image, then the second-order pass through
 *                                              that dX chain: its input grads and weight grads)
 *   step  = 2·(Gmain + Dmain + Dreg / r1Interval)
 */
import { blockResolutions, channelsAt, type ModelConfig, type TrainingOptions } from '../src/core/config/options';
import { decoderSteps } from '../src/core/networks/discriminator';

export interface FlopBreakdown {
  /** Forward multiply-accumulates for one batch. */
  macs: { mapping: number; G: number; Denc: number; fromRgb: number; decoder: number };
  /** FLOPs (2·MAC) of each phase and of the amortised step. */
  flops: { Gmain: number; Dmain: number; Dreg: number; stepAmortised: number; plainStep: number };
  formula: string;
}

/** Forward MACs of the generator (mapping + synthesis) for a batch of n. */
function generatorMacs(m: ModelConfig, n: number): { mapping: number; total: number } {
  let mapping = 0;
  for (let i = 0; i < m.mappingLayers; i++) mapping += n * (i === 0 ? m.zDim : m.wDim) * m.wDim;
  let synth = 0;
  let cin = channelsAt(m, 4);
  for (const r of blockResolutions(m.resolution)) {
    const cout = channelsAt(m, r);
    for (const layer of r === 4 ? ['conv1'] : ['conv0', 'conv1']) {
      const ci = layer === 'conv0' ? cin : cout;
      synth += n * m.wDim * ci;            // style affine
      synth += n * r * r * 9 * ci * cout;  // 3×3 conv
      synth += n * ci * cout;              // demodulation: s² [N,I] · Σw² [I,O]
    }
    synth += n * m.wDim * cout;            // toRGB affine
    synth += n * r * r * cout * m.channels; // toRGB 1×1 conv (no demod)
    cin = cout;
  }
  return { mapping, total: mapping + synth };
}

/** Forward MACs of the discriminator encoder+epilogue, its fromRGB layer, and the GGDR decoder. */
function discriminatorMacs(m: ModelConfig, n: number, ggdrRes: number | null): { enc: number; fromRgb: number; decoder: number } {
  const R = m.resolution;
  const fromRgb = n * R * R * m.channels * channelsAt(m, R);
  let enc = fromRgb;
  for (const r of blockResolutions(R).filter((x) => x > 4)) {
    const ci = channelsAt(m, r), co = channelsAt(m, r / 2), h = r / 2;
    enc += n * h * h * ci * co;           // skip 1×1 after the box downsample
    enc += n * r * r * 9 * ci * ci;       // conv0 3×3 at r
    enc += n * h * h * 9 * ci * co;       // conv1 3×3 at r/2
  }
  const c4 = channelsAt(m, 4);
  enc += n * 16 * 9 * (c4 + 1) * c4;      // epilogue conv (with the stddev channel)
  enc += n * 16 * c4 * c4;                // fc
  enc += n * c4;                          // out
  let decoder = 0;
  if (ggdrRes) {
    for (const s of decoderSteps(ggdrRes)) {
      const ci = s.first ? c4 : 2 * channelsAt(m, s.from); // G channels + D channels at `from`
      decoder += n * s.to * s.to * ci * channelsAt(m, s.to);
    }
  }
  return { enc, fromRgb, decoder };
}

/** FLOPs of one training step of `opts` (batch = opts.model.batch). */
export function trainingStepFlops(opts: TrainingOptions): FlopBreakdown {
  const m = opts.model, n = m.batch;
  const g = generatorMacs(m, n);
  const d = discriminatorMacs(m, n, opts.ggdr.enabled ? opts.ggdr.res : null);
  const Gmain = 3 * g.total + 2 * d.enc + g.mapping;
  const Dmain = g.total + 2 * (3 * d.enc - d.fromRgb) + 3 * d.decoder;
  const lazy = m.r1Gamma > 0 && m.r1Interval > 0;
  const Dreg = lazy ? 4 * d.enc : 0;
  const plainStep = 2 * (Gmain + Dmain);
  return {
    macs: { mapping: g.mapping, G: g.total, Denc: d.enc, fromRgb: d.fromRgb, decoder: d.decoder },
    flops: { Gmain: 2 * Gmain, Dmain: 2 * Dmain, Dreg: 2 * Dreg, plainStep, stepAmortised: plainStep + (lazy ? (2 * Dreg) / m.r1Interval : 0) },
    formula: 'step = 2·(Gmain + Dmain + Dreg/r1Interval); Gmain = 3·M_G + 2·M_Denc + M_map; ' +
      'Dmain = M_G + 2·(3·M_Denc − M_rgb) + 3·M_dec; Dreg = 4·M_Denc (M = forward MACs of conv/dense/affine/demod layers)',
  };
}
