/**
 * @file The shared driver of the ReLU-network extractors: calibrate the answer noise, recover the
 * first hidden layer (layer.ts), fit the output layer by float64 least squares; when that fit
 * leaves a residual (or two hidden layers are declared), peel the first layer off: a virtual probe
 * (probe.ts) queries the hidden activations directly and the second layer is recovered the same
 * way in that space. Finally the extracted network is checked against fresh answers. The hidden
 * layers come out permuted and positively rescaled (the scale is folded into the next layer),
 * which computes the same function.
 * @see M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot, "High Accuracy and High Fidelity Extraction of Neural Networks", USENIX Security 2020, arXiv:1909.01838.
 * @see N. Carlini, M. Jagielski, I. Mironov, "Cryptanalytic Extraction of Neural Network Models", CRYPTO 2020, arXiv:2003.04884.
 */
import { HeistError } from '../../../core/errors.js';
import { inputSize } from '../../../core/prediction.js';
import type { Rng } from '../../../core/rng.js';
import { type DenseLayer64, type DenseReluNet, denseReluPredictor, forwardLogits } from '../../../models/dense-relu.js';
import { z } from 'zod';
import type { Oracle } from '../../../oracle/types.js';
import type { ExtractOptions, ExtractResult } from '../types.js';
import type { KinkStrategy } from './kinks.js';
import { type LayerResult, type LayerSearch, extractLayer, fitOutputs, reluLayer } from './layer.js';
import { type Meter, type Probe, affine, oracleProbe, virtualProbe } from './probe.js';

/** The options both ReLU extractors take (`--method-option`). */
export const reluExtractorOptions = z
  .object({
    /** Hidden widths, when the architecture is known. */
    hidden: z.array(z.number().int().positive()).min(1).optional(),
    timeLimitMs: z.number().int().positive().optional(),
    maxLines: z.number().int().positive().optional(),
  })
  .strict();

export type ReluExtractorOptions = z.input<typeof reluExtractorOptions>;

export interface ReluAttackSettings {
  readonly strategy: KinkStrategy;
  /** Hidden widths when known (their count fixes the depth); otherwise discovered. */
  readonly hidden?: readonly number[];
  readonly maxDepth: 1 | 2;
  readonly timeLimitMs: number;
  readonly maxLines: number;
  readonly patience: number;
}

const randomIn = (rng: Rng, lo: Float64Array, hi: Float64Array): Float64Array =>
  lo.map((v, i) => rng.uniform(v, hi[i]));

/** Largest second difference of three nearly coincident collinear answers: the answer noise. */
async function answerNoise(
  probe: Probe,
  lo: Float64Array,
  hi: Float64Array,
  span: number,
  rng: Rng,
): Promise<{ noise: number; scale: number }> {
  let noise = 0;
  let scale = 1;
  for (let i = 0; i < 6; i++) {
    const o = randomIn(rng, lo, hi);
    const u = o.map(() => rng.normal());
    const n = Math.hypot(...u);
    const { y } = await probe.eval([0, 1, 2].map((t) => o.map((v, j) => v + (t * span * u[j]) / n)));
    y[0].forEach((v, j) => {
      noise = Math.max(noise, Math.abs(y[0][j] - 2 * y[1][j] + y[2][j]));
      scale = Math.max(scale, Math.abs(v));
    });
  }
  return { noise, scale };
}

function searchFor(
  probe: Probe,
  lo: Float64Array,
  hi: Float64Array,
  clip: boolean,
  tol: number,
  width: number | undefined,
  s: ReluAttackSettings,
  rng: Rng,
): LayerSearch {
  const w = lo.reduce((acc, v, i) => acc + (hi[i] - v), 0) / lo.length;
  const f64 = probe.answerEps < 1e-10;
  // Binary search places a critical point only to about a tenth of minWidth: wider side offsets.
  const coarse = !f64 || s.strategy === 'bisect';
  const eps = (coarse ? 1e-2 : 1e-3) * w;
  return {
    lo,
    hi,
    clip,
    rng,
    width,
    reach: clip ? w : w * Math.max(8, 4 * Math.sqrt(lo.length)),
    kinks: {
      strategy: s.strategy,
      delta: (f64 ? 1e-3 : 2e-3) * w,
      tol,
      minWidth: (f64 ? 1e-2 : 3e-2) * w,
      maxRows: 4000,
    },
    eps,
    step: (f64 ? (coarse ? 1e-4 : 1e-5) : 2e-3) * w,
    planeTol: (coarse ? 1e-2 : 1e-3) * w,
    maxLines: s.maxLines,
    patience: s.patience,
  };
}

function denseOf(rows: readonly Float64Array[], bias: Float64Array): DenseLayer64 {
  const h = rows.length;
  const d = rows[0].length;
  const kernel = new Float64Array(d * h);
  rows.forEach((r, j) => {
    r.forEach((v, i) => {
      kernel[i * h + j] = v;
    });
  });
  return { inputs: d, units: h, kernel, bias: Float64Array.from(bias) };
}

/** The output layer; for probability answers class 0 is fixed to zero (the fit is of log p_k - log p_0). */
function outputLayer(weights: Float64Array[], classes: number, shifted: boolean): DenseLayer64 {
  const h = weights[0].length - 1;
  const kernel = new Float64Array(h * classes);
  const bias = new Float64Array(classes);
  weights.forEach((w, o) => {
    const c = shifted ? o + 1 : o;
    for (let j = 0; j < h; j++) kernel[j * classes + c] = w[j];
    bias[c] = w[h];
  });
  return { inputs: h, units: classes, kernel, bias };
}

export async function runReluAttack(
  client: Oracle,
  opts: ExtractOptions,
  s: ReluAttackSettings,
  method: string,
): Promise<ExtractResult> {
  const info = client.info;
  const d = inputSize(info);
  const { min, max } = info.domain;
  const rng = opts.rng;
  const meter: Meter = { used: 0, budget: opts.budget ?? Infinity, deadline: performance.now() + s.timeLimitMs };
  const depth = s.hidden?.length;
  if (depth !== undefined && (depth < 1 || depth > s.maxDepth))
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `${method} extracts up to ${s.maxDepth} hidden layer(s), ${depth} declared`,
    );
  const probe = await oracleProbe(client, meter);
  const lo = new Float64Array(d).fill(min);
  const hi = new Float64Array(d).fill(max);
  const cal = await answerNoise(probe, lo, hi, 1e-4 * (max - min), rng.fork('noise'));
  const tol = Math.max(20 * cal.noise, 8 * probe.answerEps * cal.scale);
  const notes: string[] = [];

  const search1 = { ...searchFor(probe, lo, hi, false, tol, s.hidden?.[0], s, rng.fork('layer-1')), deep: depth === 2 };
  const first = await extractLayer(probe, search1);
  const h1 = reluLayer(first.rows, first.bias);
  const layers: DenseLayer64[] = [denseOf(first.rows, first.bias)];
  const fitRows = (n: number, a: Float64Array, b: Float64Array, r: Rng) =>
    Array.from({ length: n }, () => randomIn(r, a, b));
  // Points on random lines through the domain, out to the search reach: every hyperplane found is crossed.
  const r1 = rng.fork('fit-1');
  const regionRows = Array.from({ length: 4 * (first.rows.length + 1) + 16 }, () => {
    const o = randomIn(r1, lo, hi);
    const u = o.map(() => r1.normal());
    const t = r1.uniform(0, search1.reach) / Math.hypot(...u);
    return o.map((v, i) => v + t * u[i]);
  });
  let fit = await fitOutputs(probe, h1, regionRows);
  const fitTol = 1e3 * tol;
  let second: LayerResult | undefined;
  if (depth === 2 || (depth === undefined && fit.maxResidual > fitTol)) {
    if (s.maxDepth < 2) {
      throw new HeistError(
        'HEIST_ERR_REQUIREMENTS',
        `the target is not a one-hidden-layer ReLU network: the output fit leaves a residual of ${fit.maxResidual.toExponential(2)}`,
      );
    }
    // Peel layer 1: query the hidden activations u > 0 directly.
    const centre = new Float64Array(d).fill((min + max) / 2);
    const vp = virtualProbe(probe, first.rows, first.bias, centre);
    const r = rng.fork('activations');
    const top = new Float64Array(first.rows.length);
    for (let i = 0; i < 256; i++)
      affine(first.rows, first.bias, randomIn(r, lo, hi)).forEach((v, j) => {
        top[j] = Math.max(top[j], v);
      });
    const uHi = top.map((v) => 8 * (v > 0 ? v : max - min));
    const uLo = uHi.map((v) => 1e-3 * v);
    // Planes that cross the positive orthant only near a face need more lines (still bounded).
    second = await extractLayer(
      vp,
      searchFor(vp, uLo, uHi, true, tol, s.hidden?.[1], { ...s, maxLines: 4 * s.maxLines }, rng.fork('layer-2')),
    );
    layers.push(denseOf(second.rows, second.bias));
    // Half uniform, half log-uniform (as the line origins of layer.ts), so that every neuron is on somewhere.
    const rf = rng.fork('fit-2');
    const uLog = uHi.map((v, i) => Math.max(uLo[i], 0.01 * v));
    const logRow = () => uLog.map((v, i) => v * (uHi[i] / v) ** rf.next());
    const rows2 = [
      ...fitRows(4 * (second.rows.length + 1) + 16, uLo, uHi, rf),
      ...Array.from({ length: 4 * (second.rows.length + 1) + 16 }, logRow),
    ];
    fit = await fitOutputs(vp, reluLayer(second.rows, second.bias), rows2);
    notes.push(
      `layer 2: ${second.rows.length} neuron(s) from ${second.lines} line(s) in the space of layer-1 activations (layer peeling)`,
    );
  }
  if (fit.maxResidual > fitTol) {
    throw new HeistError(
      'HEIST_ERR_INTERNAL',
      `the output-layer fit leaves a residual of ${fit.maxResidual.toExponential(2)} (tolerance ${fitTol.toExponential(2)}): extraction failed`,
    );
  }
  const shifted = probe.kind === 'probs';
  layers.push(outputLayer(fit.weights, info.classes, shifted));
  const net: DenseReluNet = { layers };
  const model = denseReluPredictor(net, {
    name: `extracted-${info.name}`,
    inputShape: info.inputShape,
    domain: info.domain,
    classNames: info.classNames,
  });

  // Check against fresh answers.
  const check = fitRows(32, lo, hi, rng.fork('verify'));
  const ans = await probe.eval(check);
  let verify = 0;
  ans.x.forEach((x, i) => {
    const z = forwardLogits(net, x);
    const zz = shifted ? z.subarray(1).map((v) => v - z[0]) : z;
    zz.forEach((v, o) => {
      verify = Math.max(verify, Math.abs(v - ans.y[i][o]));
    });
  });
  if (verify > 0.05 * cal.scale)
    throw new HeistError(
      'HEIST_ERR_INTERNAL',
      `the extracted network misses fresh answers by ${verify.toExponential(2)}: extraction failed`,
    );
  notes.unshift(
    `${method}: ${layers.length - 1} hidden layer(s) [${layers
      .slice(0, -1)
      .map((l) => l.units)
      .join(', ')}] recovered from ${meter.used} queries; ` +
      `answers: ${probe.float64 ? 'float64' : 'float32'} ${probe.kind}; hidden units are permuted and positively rescaled (scale folded into the next layer)`,
    `layer 1: ${first.rows.length} neuron(s) from ${first.lines} line(s), ${first.candidates} candidate(s), ${first.dropped} dropped by the sign test`,
    `largest error on 32 fresh answers: ${verify.toExponential(2)} (answer scale ${cal.scale.toPrecision(3)})`,
  );
  return {
    model,
    // Exported by `heist extract` as ONNX (float32) for ReLU networks that end in a softmax-able layer.
    spec: model.toSpec(),
    queriesUsed: meter.used,
    notes,
    diagnostics: {
      hiddenLayers: layers.length - 1,
      layer1Neurons: first.rows.length,
      ...(second ? { layer2Neurons: second.rows.length } : {}),
      lines: first.lines + (second?.lines ?? 0),
      answerNoise: cal.noise,
      outputFitResidual: fit.maxResidual,
      verifyMaxError: verify,
      answersFloat64: probe.float64 ? 1 : 0,
    },
  };
}
