/**
 * Up-front check that a snapshot's weights fit the networks its own options describe, from the
 * manifest in snapshot.json alone (no tfjs, no weights read, nothing allocated): the parameter names
 * and shapes that `new Generator(...)` / `new Discriminator(...)` would create, listed the way their
 * constructors list them (test/unit/inference/snapshotCompat.test.ts compares the two on several
 * configurations, so they cannot drift apart). Panels call it before rendering, so a snapshot made by
 * another preset or with an edited snapshot.json gets a plain message instead of a failed load.
 */
import { blockResolutions, channelsAt, decoderSteps, resolveOptions, upgradeStoredOptions, validateOptions, type ModelConfig, type TrainingOptions } from '../config/options';
import { isUserError } from '../errors';
import { isObj } from '../../shared/protocol/schema';

/** One parameter: canonical name (as ParamSet stores it) and shape. */
export interface ParamShape {
  name: string;
  shape: number[];
}

type NetConfig = Pick<ModelConfig, 'resolution' | 'channels' | 'zDim' | 'wDim' | 'mappingLayers' | 'channelBase' | 'channelMax'>;

/** The parameters of `new Generator(cfg, seed)` (trainable ones and the w_avg / noise_const buffers), in creation order. */
export function generatorParamShapes(cfg: NetConfig): ParamShape[] {
  const out: ParamShape[] = [];
  const add = (name: string, shape: number[]) => out.push({ name, shape });
  for (let i = 0; i < cfg.mappingLayers; i++) {
    add(`mapping/fc${i}/weight`, [i === 0 ? cfg.zDim : cfg.wDim, cfg.wDim]);
    add(`mapping/fc${i}/bias`, [cfg.wDim]);
  }
  add('mapping/w_avg', [cfg.wDim]);
  const c4 = channelsAt(cfg, 4);
  add('synthesis/const', [4, 4, c4]);
  let cin = c4;
  for (const r of blockResolutions(cfg.resolution)) {
    const cout = channelsAt(cfg, r);
    for (const layer of r === 4 ? ['conv1'] : ['conv0', 'conv1']) {
      const ci = layer === 'conv0' ? cin : cout;
      const base = `synthesis/b${r}/${layer}`;
      add(`${base}/affine/weight`, [cfg.wDim, ci]);
      add(`${base}/affine/bias`, [ci]);
      add(`${base}/weight`, [3, 3, ci, cout]);
      add(`${base}/bias`, [cout]);
      add(`${base}/noise_strength`, []);
      add(`${base}/noise_const`, [r, r, 1]);
    }
    const tb = `synthesis/b${r}/torgb`;
    add(`${tb}/affine/weight`, [cfg.wDim, cout]);
    add(`${tb}/affine/bias`, [cout]);
    add(`${tb}/weight`, [1, 1, cout, cfg.channels]);
    add(`${tb}/bias`, [cfg.channels]);
    cin = cout;
  }
  return out;
}

/** The parameters of `new Discriminator(cfg, seed, decoder)`; `ggdrRes` null = no GGDR decoder. Decoder widths are G's channels. */
export function discriminatorParamShapes(cfg: NetConfig, ggdrRes: number | null): ParamShape[] {
  const out: ParamShape[] = [];
  const add = (name: string, shape: number[]) => out.push({ name, shape });
  const R = cfg.resolution;
  add('fromrgb/weight', [1, 1, cfg.channels, channelsAt(cfg, R)]);
  add('fromrgb/bias', [channelsAt(cfg, R)]);
  for (const r of blockResolutions(R).filter((x) => x > 4).reverse()) {
    const ci = channelsAt(cfg, r), co = channelsAt(cfg, r / 2);
    add(`b${r}/conv0/weight`, [3, 3, ci, ci]);
    add(`b${r}/conv0/bias`, [ci]);
    add(`b${r}/conv1/weight`, [3, 3, ci, co]);
    add(`b${r}/conv1/bias`, [co]);
    add(`b${r}/skip/weight`, [1, 1, ci, co]);
  }
  const c4 = channelsAt(cfg, 4);
  add('b4/conv/weight', [3, 3, c4 + 1, c4]);
  add('b4/conv/bias', [c4]);
  add('b4/fc/weight', [c4 * 16, c4]);
  add('b4/fc/bias', [c4]);
  add('b4/out/weight', [c4, 1]);
  add('b4/out/bias', [1]);
  if (ggdrRes !== null) {
    for (const step of decoderSteps(ggdrRes)) {
      // Input: the encoder output at 4×4 first, then the previous output ⊕ the encoder feature (G's width + D's width).
      const ci = step.first ? c4 : channelsAt(cfg, step.from) + channelsAt(cfg, step.from);
      add(`decoder/${step.to}/weight`, [1, 1, ci, channelsAt(cfg, step.to)]);
      add(`decoder/${step.to}/bias`, [channelsAt(cfg, step.to)]);
    }
  }
  return out;
}

/** The network tensors (G/…, G_ema/…, D/…) a snapshot trained with `opts` holds: what loadNetworks reads. */
export function snapshotNetworkShapes(opts: Pick<TrainingOptions, 'model' | 'ggdr'>): ParamShape[] {
  const g = generatorParamShapes(opts.model);
  const d = discriminatorParamShapes(opts.model, opts.ggdr.enabled ? opts.ggdr.res : null);
  const pre = (p: string, xs: ParamShape[]) => xs.map((x) => ({ name: `${p}/${x.name}`, shape: x.shape }));
  return [...pre('G', g), ...pre('G_ema', g), ...pre('D', d)];
}

const fmtShape = (s: number[]) => `[${s.join(',')}]`;
const list = (xs: string[], n = 3) => xs.slice(0, n).join(', ') + (xs.length > n ? `, … (${xs.length} in all)` : '');

/** name → shape of every well-formed entry of a tfjs weights manifest (groups of { weights: [{ name, shape }] }). */
function manifestShapes(manifest: unknown): Map<string, number[]> | null {
  if (!Array.isArray(manifest)) return null;
  const out = new Map<string, number[]>();
  for (const g of manifest) {
    if (!isObj(g) || !Array.isArray(g.weights)) return null;
    for (const w of g.weights) {
      if (!isObj(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d))) return null;
      out.set(w.name, w.shape as number[]);
    }
  }
  return out;
}

/** What the generator weights of a manifest say about the model: output px, channels at 4×4, image channels. */
function weightsGeometry(have: Map<string, number[]>): { res: number; c4: number; image: number } | null {
  for (const net of ['G_ema', 'G']) {
    const c = have.get(`${net}/synthesis/const`);
    let res = 0, image = 0;
    for (const [name, shape] of have) {
      const m = new RegExp(`^${net}/synthesis/b(\\d+)/torgb/weight$`).exec(name);
      if (m && Number(m[1]) > res) { res = Number(m[1]); image = shape[3]; }
    }
    if (c && c.length === 3 && res) return { res, c4: c[2], image };
  }
  return null;
}

const describeGeometry = (g: { res: number; c4: number; image: number }) =>
  `${g.res}-px / ${g.c4}-channel${g.image === 1 ? ' grayscale' : g.image === 3 ? ' RGB' : ` ${g.image}-channel-image`}`;

/**
 * Whether a snapshot's weights manifest fits the networks its stored options describe. Returns null
 * when every tensor loadNetworks needs (G, G_ema, D) is present with the shape the options imply,
 * else one sentence for people: e.g. "this snapshot's weights are 16-px / 16-channel grayscale but its
 * options say 32-px / 16-channel grayscale: it was made by a different preset or edited …".
 * `options` and `manifest` are snapshot.json's `options` and `weightsManifest`, as parsed.
 */
export function snapshotCompatProblem(options: unknown, manifest: unknown): string | null {
  let opts: TrainingOptions;
  try {
    // Exactly what readSnapshot does before building the networks.
    opts = resolveOptions(upgradeStoredOptions(options as TrainingOptions));
    validateOptions(opts);
  } catch (e) {
    if (isUserError(e)) return `its options are invalid (${e.message.split('\n')[0].replace(/\.$/, '')}): snapshot.json was edited or is damaged`;
    return `its options cannot be read (${(e as Error).message}): snapshot.json was edited or is damaged`;
  }
  const have = manifestShapes(manifest);
  if (!have) return 'its weights manifest is malformed (snapshot.json was edited or is damaged)';
  const want = snapshotNetworkShapes(opts);
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const w of want) {
    const s = have.get(w.name);
    if (!s) missing.push(w.name);
    else if (s.length !== w.shape.length || s.some((d, i) => d !== w.shape[i])) wrong.push(`${w.name} is ${fmtShape(s)}, the options imply ${fmtShape(w.shape)}`);
  }
  if (!missing.length && !wrong.length) return null;
  const geo = weightsGeometry(have);
  const implied = { res: opts.model.resolution, c4: channelsAt(opts.model, 4), image: opts.model.channels };
  const detail = [
    wrong.length ? `${wrong.length} of ${want.length} network tensors have other shapes (${list(wrong, 2)})` : '',
    missing.length ? `${missing.length} tensors its options imply are missing (${list(missing)})` : '',
  ].filter(Boolean).join('; ');
  if (geo && (geo.res !== implied.res || geo.c4 !== implied.c4 || geo.image !== implied.image)) {
    return `this snapshot's weights are ${describeGeometry(geo)} but its options say ${describeGeometry(implied)}: it was made by a different preset or edited (${detail})`;
  }
  return `this snapshot's weights do not match its options: ${detail}. It was made by a different preset or version, or snapshot.json was edited`;
}
