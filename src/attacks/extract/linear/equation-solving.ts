/**
 * @file Exact extraction of logistic / softmax regression by equation solving.
 *
 * A softmax regression answers p = softmax(W x + b). For any two classes c and r,
 *   log(p_c / p_r) = (w_c - w_r) · x + (b_c - b_r),
 * which is linear in the d + 1 unknowns (w_c - w_r, b_c - b_r). One query row gives one such
 * equation for every class c != r at once, so d + 1 rows at linearly independent points determine
 * all k - 1 weight differences: k - 1 float64 least-squares solves that share one design matrix.
 * Softmax is shift-invariant, so class 0 is fixed to zero; the result predicts exactly what the
 * target predicts. Binary LR served as a 2-way softmax is k = 2 (31 queries for 30 features).
 * Tramèr et al. solve the multiclass case by minimising a convex cross-entropy loss over all
 * k (d + 1) unknowns (650 for digits) and report budgets as multiples of that count; the log-ratio
 * form is linear and needs only d + 1 rows (65 for digits), because each row answers k - 1
 * independent equations. Rows beyond d + 1 make the system overdetermined; least squares then
 * averages the float32 rounding of the answers, and its residual tests the linear-softmax
 * hypothesis (a nonlinear target leaves a residual far above float32 noise).
 *
 * Precision: answers are float32 (also over HTTP: the gateway prints each float32 as a JSON
 * number that parses back to the same float32). A probability of a softmax is computed as
 * exp(z - max) / sum and stays within ~2^-24 relative of the truth however small it is, so each
 * log-ratio is within ~2^-23 absolute. A probability that rounds to 1 is still within 2^-24 of
 * the truth, so it needs no special case. A probability that underflows (0, or a float32 subnormal
 * with fewer than 24 significant bits) carries no usable logarithm: its equation is dropped while
 * at least d + 1 others remain for that class (it only says z_c - z_r < about -87); otherwise it
 * is clipped to the smallest normal float32, which biases that equation, and counted in the notes.
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.1 (equation-solving attacks).
 */
import { HeistError } from '../../../core/errors.js';
import { inputSize } from '../../../core/prediction.js';
import { tensor } from '../../../core/tensor.js';
import { type DenseMatrix, denseMatrix, lstsq, pinvRowNorms } from '../../../backends/linalg.js';
import { linearModel } from '../../../models/linear.js';
import type { Oracle } from '../../../oracle/types.js';
import {
  type ExtractOptions,
  type ExtractResult,
  type Extractor,
  type LinearWeights,
  extractorEntry,
} from '../types.js';
import { z } from 'zod';
import { designRows } from '../solvers/design-rows.js';

/** Smallest normal float32: below it a float32 probability has lost relative precision. */
export const FLOAT32_MIN_NORMAL = 2 ** -126;
/** Worst absolute error of log(p_c) - log(p_r) when both are correctly rounded float32 values. */
export const FLOAT32_LOG_RATIO_ERROR = 2 ** -23;
/** Error bounds are computed (by SVD) only for designs up to this many unknowns. */
const MAX_BOUND_UNKNOWNS = 256;
/** A residual RMS above this (log-ratio units) is far beyond float32 noise: not a linear softmax. */
const NONLINEAR_RESIDUAL = 1e-4;

interface LogAnswers {
  /** [n, k] log-probabilities (or logits), clipped at log(FLOAT32_MIN_NORMAL). */
  readonly logs: Float64Array;
  /** [n, k] 1 when the entry is a usable equation. */
  readonly valid: Uint8Array;
  readonly minProb: number;
}

function logAnswers(kind: 'probs' | 'logits', scores: Float32Array, n: number, k: number): LogAnswers {
  const logs = new Float64Array(n * k);
  const valid = new Uint8Array(n * k);
  let minProb = Infinity;
  for (let i = 0; i < n * k; i++) {
    const v = scores[i];
    if (!Number.isFinite(v))
      throw new HeistError('HEIST_ERR_UPSTREAM', `the target answered a non-finite score (${v})`);
    if (kind === 'logits') {
      logs[i] = v;
      valid[i] = 1;
    } else {
      minProb = Math.min(minProb, v);
      valid[i] = v >= FLOAT32_MIN_NORMAL ? 1 : 0;
      logs[i] = Math.log(Math.max(v, FLOAT32_MIN_NORMAL));
    }
  }
  return { logs, valid, minProb };
}

/** [rows, d + 1]: the chosen rows of x with a trailing 1 (the bias column). */
function augmented(x: Float32Array, d: number, rows: readonly number[]): DenseMatrix {
  const a = denseMatrix(rows.length, d + 1);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) a.data[i * (d + 1) + j] = x[r * d + j];
    a.data[i * (d + 1) + d] = 1;
  });
  return a;
}

/** Solves the k - 1 log-ratio systems; returns softmax-regression weights with class 0 at zero. */
function solveLogRatios(x: Float32Array, ans: LogAnswers, n: number, d: number, k: number) {
  const { logs, valid } = ans;
  const count = Array.from({ length: k }, (_, c) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += valid[i * k + c];
    return s;
  });
  const ref = count.indexOf(Math.max(...count));
  const all = Array.from({ length: n }, (_, i) => i);
  let dropped = 0;
  let clipped = 0;
  // Rows per class: drop unusable equations while enough remain, else keep them clipped.
  const groups = new Map<string, { rows: number[]; classes: number[] }>();
  for (let c = 0; c < k; c++) {
    if (c === ref) continue;
    let rows = all.filter((i) => valid[i * k + c] && valid[i * k + ref]);
    if (rows.length < d + 1) {
      rows = all.filter((i) => valid[i * k + ref]);
      if (rows.length < d + 1) rows = all;
      clipped += rows.filter((i) => !(valid[i * k + c] && valid[i * k + ref])).length;
    } else dropped += n - rows.length;
    const key = rows.length === n ? 'all' : rows.join(',');
    const g = groups.get(key) ?? { rows, classes: [] };
    g.classes.push(c);
    groups.set(key, g);
  }
  // delta[c] = (w_c - w_ref, b_c - b_ref), d + 1 values; delta[ref] = 0.
  const delta = Array.from({ length: k }, () => new Float64Array(d + 1));
  let condition = 1;
  let residual = 0;
  for (const { rows, classes } of groups.values()) {
    const b = denseMatrix(rows.length, classes.length);
    rows.forEach((r, i) => {
      classes.forEach((c, j) => {
        b.data[i * classes.length + j] = logs[r * k + c] - logs[r * k + ref];
      });
    });
    const sol = lstsq(augmented(x, d, rows), b);
    condition = Math.max(condition, sol.conditionEstimate);
    residual = Math.max(residual, ...sol.residualRms);
    classes.forEach((c, j) => {
      for (let t = 0; t <= d; t++) delta[c][t] = sol.x.data[t * classes.length + j];
    });
  }
  const weights = new Float64Array(d * k);
  const bias = new Float64Array(k);
  for (let c = 1; c < k; c++) {
    for (let j = 0; j < d; j++) weights[j * k + c] = delta[c][j] - delta[0][j];
    bias[c] = delta[c][d] - delta[0][d];
  }
  return { weights, bias, ref, dropped, clipped, condition, residual };
}

async function extract(client: Oracle, opts: ExtractOptions): Promise<ExtractResult> {
  const info = client.info;
  const d = inputSize(info);
  const k = info.classes;
  const n = opts.budget ?? d + 1;
  if (n < d + 1)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `equation solving needs at least d + 1 = ${d + 1} queries, got a budget of ${n}`,
    );
  const design = opts.design ?? 'uniform';
  const x = designRows(info, n, design, opts.rng);
  const answer = await client.query(tensor(x, [n, d]), { purpose: 'attack' });
  if ((answer.kind !== 'probs' && answer.kind !== 'logits') || !answer.scores) {
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `equation solving needs probabilities or logits, but "${info.name}" answered ${answer.kind}`,
    );
  }
  if (answer.scores.data.length !== n * k) {
    throw new HeistError(
      'HEIST_ERR_UPSTREAM',
      `"${info.name}" answered ${answer.scores.data.length} scores for ${n} rows of ${k} classes`,
    );
  }
  const ans = logAnswers(answer.kind, answer.scores.data, n, k);
  const sol = solveLogRatios(x, ans, n, d, k);

  let maxAbsScore = 0;
  for (const v of answer.scores.data) maxAbsScore = Math.max(maxAbsScore, Math.abs(v));
  const delta = answer.kind === 'probs' ? FLOAT32_LOG_RATIO_ERROR : 2 ** -23 * maxAbsScore;
  // Error bars (small designs only: they need an SVD). bound: worst case from answer rounding alone.
  // stdError: from the observed residual, which also holds the target's own float32 arithmetic.
  const norms =
    d + 1 <= MAX_BOUND_UNKNOWNS
      ? pinvRowNorms(
          augmented(
            x,
            d,
            Array.from({ length: n }, (_, i) => i),
          ),
        )
      : undefined;
  const bound = norms && sol.clipped === 0 ? delta * Math.max(...norms.l1) : undefined;
  const stdError = norms && n > d + 1 ? sol.residual * Math.sqrt(n / (n - d - 1)) * Math.max(...norms.l2) : undefined;
  const weights: LinearWeights = { d, k, weights: sol.weights, bias: sol.bias, referenceClass: 0 };
  const model = linearModel({
    name: `extracted-${info.name}`,
    weights: Float32Array.from(sol.weights),
    bias: Float32Array.from(sol.bias),
    inputShape: info.inputShape,
    classNames: info.classNames,
    domain: info.domain,
  });
  const notes = [
    `equation solving (${design} design): ${k - 1} log-ratio system(s) of ${n} equations in ${d + 1} unknowns, solved in float64 ` +
      `against reference class ${sol.ref}; class 0 fixed to zero (softmax is shift-invariant)`,
    bound === undefined
      ? `answers are ${answer.kind} in float32; no error bound computed (${sol.clipped > 0 ? 'clipped equations' : `more than ${MAX_BOUND_UNKNOWNS} unknowns`})`
      : `answers are float32 ${answer.kind}: each log-ratio is within ${delta.toExponential(2)}, so answer rounding moves no weight by more than ` +
        `${bound.toExponential(2)} (the target's own float32 arithmetic adds error of the same order)`,
  ];
  if (n > d + 1) {
    notes.push(
      `overdetermined (${n} rows for ${d + 1} unknowns): residual RMS ${sol.residual.toExponential(2)} in log-ratio units` +
        (stdError === undefined ? '' : `; largest weight standard error ${stdError.toExponential(2)}`),
    );
    if (sol.residual > NONLINEAR_RESIDUAL) {
      notes.push(
        `the residual is far above float32 noise: the target does not behave like a softmax regression; the extracted model is only the best linear fit`,
      );
    }
  } else
    notes.push(`exactly determined (${n} rows): the residual cannot test whether the target is a softmax regression`);
  if (sol.dropped > 0)
    notes.push(
      `${sol.dropped} equation(s) dropped: a probability underflowed float32 (below ${FLOAT32_MIN_NORMAL.toExponential(2)})`,
    );
  if (sol.clipped > 0)
    notes.push(
      `${sol.clipped} equation(s) used with probabilities clipped to ${FLOAT32_MIN_NORMAL.toExponential(2)}: too few unclipped rows; expect a biased fit`,
    );
  return {
    model,
    queriesUsed: n,
    notes,
    weights,
    diagnostics: {
      designCondition: sol.condition,
      residualRms: sol.residual,
      droppedEquations: sol.dropped,
      clippedEquations: sol.clipped,
      ...(ans.minProb !== Infinity ? { minProbability: ans.minProb } : {}),
      ...(bound !== undefined ? { weightErrorBound: bound } : {}),
      ...(stdError !== undefined ? { weightStdError: stdError } : {}),
    },
  };
}

export const equationSolving: Extractor = {
  name: 'equation-solving',
  paper:
    'Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.1',
  description: 'logistic / softmax regression from d + 1 probability answers: one linear solve per class log-ratio',
  requires: { output: ['probs', 'logits'] },
  minQueries: (info) => inputSize(info) + 1,
  extract,
};

export const equationSolvingEntry = extractorEntry('linear', z.object({}).strict(), () => equationSolving);
