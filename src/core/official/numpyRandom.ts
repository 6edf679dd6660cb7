/**
 * numpy's legacy `np.random.RandomState`, enough of it to draw the latents the official
 * StyleGAN2-ADA `generate.py` draws: `RandomState(seed).randn(1, z_dim)`.
 *
 * The generator is the Mersenne Twister MT19937 (Matsumoto & Nishimura, 1998). An integer seed
 * initialises the 624-word state with the reference linear recurrence (numpy's `seed(int)` path);
 * an array seed uses the reference `init_by_array` mixing. Doubles take 53 bits from two 32-bit
 * draws (27 + 26 bits), and normal deviates use the Marsaglia polar method with one value kept
 * for the next call — the legacy sampler numpy still uses for `RandomState.randn`.
 *
 * Bit-exactness needs the natural log to round as the C library's does. V8's Math.log differs from
 * glibc's by one ulp for about 7% of the arguments drawn here, so `logRounded` evaluates log in
 * double-double arithmetic and rounds once (correct rounding). glibc's own log is not correctly
 * rounded for about 0.07% of arguments (its documented error is 0.52 ulp), and reproducing those
 * would take its tables: there a deviate differs from numpy's in the last bit or two (≈ 2e-16
 * relative). The fixture's seeds 0–7 are bit-identical; about one 512-d latent in seven has one
 * such last-bit difference.
 */

const N = 624;
const M = 397;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

export class NumpyRandomState {
  private readonly mt = new Uint32Array(N);
  private pos = N;
  private cachedGauss = 0;
  private hasGauss = false;

  /** `seed`: an integer in [0, 2³²) (numpy's `RandomState(int)`), or an array of such words (`init_by_array`). */
  constructor(seed: number | ArrayLike<number>) {
    if (typeof seed === 'number') {
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`Seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
      this.initGenrand(seed);
    } else {
      this.initByArray(seed);
    }
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 · prev + i (mod 2³²); Math.imul keeps the low 32 bits of the product exactly.
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.pos = N;
    this.hasGauss = false;
    this.cachedGauss = 0;
  }

  private initByArray(key: ArrayLike<number>): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    const len = key.length;
    for (let k = Math.max(N, len); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + (key[j] >>> 0) + j) >>> 0;
      i++;
      j++;
      if (i >= N) { mt[0] = mt[N - 1]; i = 1; }
      if (j >= len) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) { mt[0] = mt[N - 1]; i = 1; }
    }
    mt[0] = 0x80000000;
    this.pos = N;
    this.hasGauss = false;
    this.cachedGauss = 0;
  }

  private regenerate(): void {
    const mt = this.mt;
    for (let k = 0; k < N; k++) {
      const y = (mt[k] & UPPER) | (mt[(k + 1) % N] & LOWER);
      mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.pos = 0;
  }

  /** Next raw 32-bit output (tempered). */
  nextUint32(): number {
    if (this.pos >= N) this.regenerate();
    let y = this.mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits (numpy's `random_sample`). */
  nextDouble(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** One standard normal deviate (legacy polar method; every second call returns the cached one). */
  gauss(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      const g = this.cachedGauss;
      this.cachedGauss = 0;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.nextDouble() - 1;
      x2 = 2 * this.nextDouble() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * logRounded(r2)) / r2);
    this.cachedGauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /** `randn(n)`: n standard normal deviates as float64. */
  randn(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.gauss();
    return out;
  }
}

/** z for one seed exactly as the official generate.py draws it: `RandomState(seed).randn(1, zDim)`. */
export function officialLatent(seed: number, zDim: number): Float64Array {
  return new NumpyRandomState(seed).randn(zDim);
}

// ---- double-double arithmetic for a correctly rounded natural log --------------------------------

type DD = [number, number];
const SPLIT = 134217729; // 2^27 + 1 (Veltkamp split)

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, (a - (s - bb)) + (b - bb)];
}
function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}
function twoProd(a: number, b: number): DD {
  const p = a * b;
  const ta = SPLIT * a;
  const ah = ta - (ta - a);
  const al = a - ah;
  const tb = SPLIT * b;
  const bh = tb - (tb - b);
  const bl = b - bh;
  return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl];
}
function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  return quickTwoSum(s, e + a[1] + b[1]);
}
function ddMul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + a[0] * b[1] + a[1] * b[0]);
}
function ddDiv(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  let r = ddAdd(a, ddMul(b, [-q1, 0]));
  const q2 = r[0] / b[0];
  r = ddAdd(r, ddMul(b, [-q2, 0]));
  const q3 = r[0] / b[0];
  return ddAdd(quickTwoSum(q1, q2), [q3, 0]);
}

const LN2: DD = [0.6931471805599453, 2.3190468138462996e-17];

/** ln(x) for finite x > 0, rounded to nearest from a ~100-bit double-double evaluation. */
export function logRounded(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return Math.log(x);
  // x = 2^k · m with m in [√½, √2): scaling by powers of two is exact for normal numbers.
  let k = Math.round(Math.log2(x));
  let m = x * Math.pow(2, -k);
  if (m > Math.SQRT2) { m /= 2; k++; } else if (m < Math.SQRT1_2) { m *= 2; k--; }
  // ln m = 2·atanh(s) = 2·Σ s^(2j+1)/(2j+1), s = (m−1)/(m+1), |s| ≤ 0.172.
  const s = ddDiv([m - 1, 0], twoSum(m, 1));
  const s2 = ddMul(s, s);
  let term: DD = s;
  let sum: DD = s;
  for (let j = 1; j < 40; j++) {
    term = ddMul(term, s2);
    const t = ddDiv(term, [2 * j + 1, 0]);
    sum = ddAdd(sum, t);
    if (Math.abs(t[0]) < 1e-34 * Math.abs(sum[0])) break;
  }
  const lnm: DD = [2 * sum[0], 2 * sum[1]];
  const r = ddAdd(ddMul(LN2, [k, 0]), lnm);
  return r[0] + r[1];
}
