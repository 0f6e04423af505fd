/**
 * @file The Shapiro-Wilk W test for normality, for complete samples of 3 to 5000 values: W and its
 * p-value by Royston's algorithm AS R94, the one `scipy.stats.shapiro` runs (its compiled swilk),
 * with the normal quantile and tail it needs; written here from the published algorithms (core/
 * takes no packages). AS R94 is a single-precision (REAL) algorithm and SciPy runs it so; the
 * default precision 'single' rounds every step to float32 in the algorithm's own order (and takes
 * quantiles from AS 111, as swilk does), which reproduces SciPy 1.10 exactly on every case of
 * test/fixtures/shapiro-wilk-scipy.json; 'double' keeps every digit (AS 241 quantiles). One
 * difference: for n = 3 the exact p is clamped at 0 where AS R94's rounded constants dip below it.
 * @see S. S. Shapiro and M. B. Wilk, "An analysis of variance test for normality (complete samples)", Biometrika 52 (1965).
 * @see J. P. Royston, "Remark AS R94: A Remark on Algorithm AS 181: The W-test for Normality", Applied Statistics 44(4), 1995, 547-551.
 * @see J. D. Beasley and S. G. Springer, "Algorithm AS 111: The Percentage Points of the Normal Distribution", Applied Statistics 26(1), 1977 (the single-precision path).
 * @see M. J. Wichura, "Algorithm AS 241: The Percentage Points of the Normal Distribution", Applied Statistics 37(3), 1988 (normalQuantile).
 * @see J. F. Hart et al., "Computer Approximations", Wiley 1968, algorithm 5666, as given by G. West, "Better approximations to cumulative normal functions", Wilmott 2005 (normalUpperTail).
 */
import { HeistError } from './errors.js';

export interface ShapiroWilkResult {
  /** The W statistic, in (0, 1]; 1 for a sample with zero range (as SciPy answers). */
  readonly w: number;
  /** The p-value: the chance of a W this small from a normal sample. */
  readonly p: number;
}

/** Evaluates c[0] + c[1] x + c[2] x^2 + ... (Horner). */
function poly(c: readonly number[], x: number): number {
  let r = 0;
  for (let i = c.length - 1; i >= 0; i--) r = r * x + (c[i] ?? 0);
  return r;
}

// AS 241 (PPND16) rational approximations, lowest order first; accurate to about 1e-16.
const Q_A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987, 67265.7709270087,
  33430.57558358813, 2509.0809287301227,
];
const Q_B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271, 28729.085735721943,
  5226.495278852854,
];
const Q_C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684, 0.2417807251774506,
  0.022723844989269184, 0.0007745450142783414,
];
const Q_D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
];
const Q_E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7,
];
const Q_F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133, 0.000018463183175100548,
  1.421511758316446e-7, 2.0442631033899397e-15,
];

/** The standard normal quantile: z with P(Z <= z) = p, for 0 < p < 1 (Wichura's AS 241). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Number.NEGATIVE_INFINITY;
    if (p === 1) return Number.POSITIVE_INFINITY;
    return Number.NaN;
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(Q_A, r)) / poly(Q_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let z: number;
  if (r <= 5) {
    r -= 1.6;
    z = poly(Q_C, r) / poly(Q_D, r);
  } else {
    r -= 5;
    z = poly(Q_E, r) / poly(Q_F, r);
  }
  return q < 0 ? -z : z;
}

// Hart 5666: P(Z > |z|) = exp(-z^2/2) * P(|z|) / Q(|z|) for |z| < 7.07, a continued fraction beyond.
const H_P = [
  220.206867912376, 221.213596169931, 112.079291497871, 33.912866078383, 6.37396220353165, 0.700383064443688,
  0.0352624965998911,
];
const H_Q = [
  440.413735824752, 793.826512519948, 637.333633378831, 296.564248779674, 86.7807322029461, 16.064177579207,
  1.75566716318264, 0.0883883476483184,
];

/** P(Z > z) for a standard normal Z, with relative error below 1e-8 everywhere (below 1e-12 for |z| < 3). */
export function normalUpperTail(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const a = Math.abs(z);
  let tail: number;
  if (a > 38) tail = 0;
  else {
    const e = Math.exp((-a * a) / 2);
    if (a < 7.07106781186547) tail = (e * poly(H_P, a)) / poly(H_Q, a);
    else {
      let b = a + 0.65;
      b = a + 4 / b;
      b = a + 3 / b;
      b = a + 2 / b;
      b = a + 1 / b;
      tail = e / b / 2.506628274631;
    }
  }
  return z >= 0 ? tail : 1 - tail;
}

/** P(Z <= z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return normalUpperTail(-z);
}

// Royston's (1992) polynomial approximations, as AS R94 gives them.
const C1 = [0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056];
const C2 = [0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633];
const C3 = [0.544, -0.39978, 0.025054, -6.714e-4];
const C4 = [1.3822, -0.77857, 0.062767, -0.0020322];
const C5 = [-1.5861, -0.31082, -0.083751, 0.0038915];
const C6 = [-0.4803, -0.082676, 0.0030302];
const G = [-2.273, 0.459];
/** The p-value AS R94 reports when log(1 - W) is past its small-sample bound. */
const SMALL = 1e-19;

/**
 * 'single' (the default) rounds every step to float32 as AS R94's REAL arithmetic does in SciPy's
 * compiled swilk, so W and p agree with `scipy.stats.shapiro`; 'double' keeps every digit (at
 * n = 5000 the two differ by up to ~2e-5 in W and ~1e-2 in p: SciPy's float32 rounding).
 */
export type ShapiroWilkPrecision = 'single' | 'double';

export interface ShapiroWilkOptions {
  readonly precision?: ShapiroWilkPrecision;
}

type Round = (v: number) => number;
const exact: Round = (v) => v;

/** AS 181.2's POLY: c[0] + x (c[1] + x (c[2] + ...)), in its own evaluation order, each step rounded. */
function polyR(c: readonly number[], x: number, r: Round): number {
  const k = c.length;
  const c0 = r(c[0] ?? 0);
  if (k === 1) return c0;
  let p = r(x * r(c[k - 1] ?? 0));
  for (let j = k - 2; j >= 1; j--) p = r(r(p + r(c[j] ?? 0)) * x);
  return r(c0 + p);
}

/**
 * Beasley and Springer's AS 111 quantile evaluated in float32, step by step: what SciPy's swilk
 * calls (PPND) for the single-precision path, so that its coefficients round as SciPy's do. Its
 * error (~1e-7) is below float32's; the double path uses AS 241 instead.
 */
function quantileAs111Single(p: number): number {
  const r = Math.fround;
  const q = r(p - 0.5);
  if (Math.abs(q) <= r(0.42)) {
    const s = r(q * q);
    const num = r(
      r(r(r(r(r(r(-25.44106049637) * s) + r(41.39119773534)) * s) + r(-18.61500062529)) * s) + r(2.50662823884),
    );
    const den = r(
      r(
        r(r(r(r(r(r(r(3.13082909833) * s) + r(-21.06224101826)) * s) + r(23.08336743743)) * s) + r(-8.4735109309)) * s,
      ) + 1,
    );
    return r(r(q * num) / den);
  }
  let t = q > 0 ? r(1 - p) : p;
  if (!(t > 0)) return 0;
  t = r(Math.sqrt(r(-r(Math.log(t)))));
  const num = r(r(r(r(r(r(r(2.32121276858) * t) + r(4.85014127135)) * t) + r(-2.29796479134)) * t) + r(-2.78718931138));
  const den = r(r(r(r(r(1.63706781897) * t) + r(3.54388924762)) * t) + 1);
  const z = r(num / den);
  return q < 0 ? -z : z;
}

/** The last few sizes' coefficients (a detector re-testing a growing sample asks for n, n+1, ...). */
const coefficientCache = new Map<string, Float64Array>();
const CACHE_SIZES = 4;

/**
 * AS R94's coefficients for a sample of n: the first floor(n/2) entries a_i, positive, weights of
 * the i-th largest value (the i-th smallest gets -a_i; the median of an odd n gets 0).
 */
export function shapiroWilkCoefficients(n: number, precision: ShapiroWilkPrecision = 'single'): Float64Array {
  const key = `${precision}:${n}`;
  const cached = coefficientCache.get(key);
  if (cached) return cached;
  const r: Round = precision === 'single' ? Math.fround : exact;
  const half = Math.floor(n / 2);
  const a = new Float64Array(half);
  if (n === 3) {
    a[0] = r(Math.SQRT1_2); // AS R94 types 0.70711; W is scale-free in the coefficients, so it is moot
  } else {
    // Blom's approximation of the expected normal order statistics: m_i = Phi^-1((i - 3/8) / (n + 1/4)),
    // negative (lower tail); AS R94 then corrects the two extreme weights by polynomials in 1/sqrt(n).
    const an25 = r(n + 0.25);
    let summ2 = 0;
    for (let i = 0; i < half; i++) {
      const pi = r(r(i + 1 - 0.375) / an25);
      const m = precision === 'single' ? quantileAs111Single(pi) : normalQuantile(pi);
      a[i] = m;
      summ2 = r(summ2 + r(m * m));
    }
    summ2 = r(summ2 * 2);
    const ssumm2 = r(Math.sqrt(summ2));
    const rsn = r(1 / r(Math.sqrt(n)));
    const m0 = a[0] ?? 0;
    const a1 = r(polyR(C1, rsn, r) - r(m0 / ssumm2));
    let start: number;
    let fac: number;
    if (n > 5) {
      const m1 = a[1] ?? 0;
      const a2 = r(r(-m1 / ssumm2) + polyR(C2, rsn, r));
      const num = r(r(summ2 - r(2 * r(m0 * m0))) - r(2 * r(m1 * m1)));
      const den = r(r(1 - r(2 * r(a1 * a1))) - r(2 * r(a2 * a2)));
      fac = r(Math.sqrt(r(num / den)));
      a[0] = a1;
      a[1] = a2;
      start = 2;
    } else {
      fac = r(Math.sqrt(r(r(summ2 - r(2 * r(m0 * m0))) / r(1 - r(2 * r(a1 * a1))))));
      a[0] = a1;
      start = 1;
    }
    for (let i = start; i < half; i++) a[i] = r(-(a[i] ?? 0) / fac);
  }
  if (coefficientCache.size >= CACHE_SIZES) coefficientCache.delete(coefficientCache.keys().next().value ?? key);
  coefficientCache.set(key, a);
  return a;
}

/** The median of sorted values. */
function median(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * The Shapiro-Wilk test of `x` (3 to 5000 finite values, any order). Throws HEIST_ERR_BAD_DATA for
 * other sizes or non-finite values. A sample with zero range gets { w: 1, p: 1 }, as in SciPy.
 */
export function shapiroWilk(x: ArrayLike<number>, options: ShapiroWilkOptions = {}): ShapiroWilkResult {
  const precision = options.precision ?? 'single';
  const r: Round = precision === 'single' ? Math.fround : exact;
  const n = x.length;
  if (n < 3 || n > 5000) throw new HeistError('HEIST_ERR_BAD_DATA', `Shapiro-Wilk needs 3 to 5000 values, got ${n}`);
  const y = Float64Array.from(x);
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(y[i])) throw new HeistError('HEIST_ERR_BAD_DATA', 'Shapiro-Wilk: a value is not finite');
  y.sort();
  // As SciPy: centre on the median in double precision first, then hand the algorithm its REALs.
  const med = median(y);
  for (let i = 0; i < n; i++) y[i] = r((y[i] ?? 0) - med);
  const range = r((y[n - 1] ?? 0) - (y[0] ?? 0));
  if (!(range > 0)) return { w: 1, p: 1 };
  const a = shapiroWilkCoefficients(n, precision);
  // The weight of the i-th smallest value (0-based): -a_i in the low half, +a for the high half.
  const weight = (i: number): number => {
    const j = n - 1 - i;
    if (i < j) return -(a[i] ?? 0);
    return i === j ? 0 : (a[j] ?? 0);
  };
  // W is the squared correlation of the range-scaled data with the weights (AS R94's loop order).
  let sx = 0;
  let sa = 0;
  for (let i = 0; i < n; i++) {
    sx = r(sx + r((y[i] ?? 0) / range));
    sa = r(sa + weight(i));
  }
  sa = r(sa / n);
  sx = r(sx / n);
  let ssa = 0;
  let ssx = 0;
  let sax = 0;
  for (let i = 0; i < n; i++) {
    const da = r(weight(i) - sa);
    const dx = r(r((y[i] ?? 0) / range) - sx);
    ssa = r(ssa + r(da * da));
    ssx = r(ssx + r(dx * dx));
    sax = r(sax + r(da * dx));
  }
  // 1 - W, computed so as not to lose digits when W is very near 1 (large samples).
  const root = r(Math.sqrt(r(ssa * ssx)));
  const w1 = r(r(r(root - sax) * r(root + sax)) / r(ssa * ssx));
  const w = r(1 - w1);
  return { w, p: pValue(w, w1, n, r) };
}

function pValue(w: number, w1: number, n: number, r: Round): number {
  if (n === 3) {
    // Exact for n = 3: (6/pi) (asin(sqrt(W)) - asin(sqrt(3/4))), with AS R94's rounded constants.
    const p = r(r(1.909859) * r(r(Math.asin(r(Math.sqrt(w)))) - r(1.047198)));
    return Math.min(1, Math.max(0, p));
  }
  if (!(w1 > 0)) return 1;
  let y = r(Math.log(w1));
  const lnN = r(Math.log(n));
  let m: number;
  let s: number;
  if (n <= 11) {
    const gamma = polyR(G, n, r);
    if (y >= gamma) return r(SMALL);
    y = r(-r(Math.log(r(gamma - y))));
    m = polyR(C3, n, r);
    s = r(Math.exp(polyR(C4, n, r)));
  } else {
    m = polyR(C5, lnN, r);
    s = r(Math.exp(polyR(C6, lnN, r)));
  }
  return r(normalUpperTail(r(r(y - m) / s)));
}
