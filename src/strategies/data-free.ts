/**
 * @file Data-free extraction, for a target with no pool at all. A small generator (generator.ts)
 * makes the rows, and takes one step after each batch it buys, up the sum of two objectives (both
 * on by default):
 * - **disagreement** (`disagreement`): DFME's L1 distance between the substitute's and the target's
 *   logits, the target's recovered from its probabilities as centred log-probabilities, climbed
 *   where the substitute is still wrong. `forward-differences` estimates its gradient as DFME and
 *   MAZE do, along `directions` random unit vectors per row, each probe a bought query:
 *   grad ~ (d/m) sum_j (L(a + eps u_j) - L(a)) / eps u_j. `substitute` takes it through the
 *   substitute with the target's answer held fixed (free, and biased); `none` drops it.
 * - **class balance** (`diversity`, its weight, 40 by default): the entropy of the batch's mean substitute
 *   prediction (DAFL's information loss), through the substitute's input gradients, so free. It
 *   keeps a batch from collapsing onto one class: each batch spreads over every class the substitute
 *   knows, the target's answers teach it more, and the next batches spread further.
 * - **balance by the answers** (`answerBalance`, 1 by default): the same term rewarding the classes
 *   the target itself has answered least of late, against the collapse onto a few of the target's
 *   classes that sets in at large budgets, between two fits of the substitute.
 * Measured on mnist-cnn (docs/strategies.md), the first two together buy more fidelity per query
 * than either alone; the `dfme-truong-2021` recipe runs DFME's objective alone.
 *
 * Rows are x = min + (max - min) sigmoid(a), and image rows are made coarse (`upsample`, 2x by default) and enlarged
 * bilinearly, as the upsampling layers of DFME's generator do: every row and probe lies inside the
 * declared domain, the rows are smooth shapes from the start, and a forward-difference estimate in
 * the coarse space has factor^2 fewer dimensions. Heist's loop in place of DFME's: the strategy
 * proposes one batch at a time (`batchRows`), the steal loop buys it, and the next call sees its
 * answers (`ProposeContext.latest`); the substitute is the steal's, refit on everything bought at each
 * checkpoint (DFME trains its student online on the fresh batch only).
 * @see J.-B. Truong, P. Maini, R. J. Walls, N. Papernot, "Data-Free Model Extraction", CVPR 2021, arXiv:2011.14779.
 * @see S. Kariyappa, A. Prakash, M. K. Qureshi, "MAZE: Data-Free Model Stealing Attack Using Zeroth-Order Gradient Estimation", CVPR 2021, arXiv:2005.03161.
 * @see H. Chen et al., "Data-Free Learning of Student Networks", ICCV 2019, arXiv:1904.01186 (DAFL).
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { type ModelInfo, type Predictor, channelsLastShape, inputSize, isDifferentiable } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import { type Tensor, tensor } from '../core/tensor.js';
import { type GeneratorPass, MlpGenerator } from './generator.js';
import { Bilinear } from './upsample.js';
import type { BoughtRows, QueryStrategy, StrategyEntry } from './types.js';

export const dataFreeOptions = z
  .object({
    /** Rows per generator batch, probes included: one generator step per batch bought. */
    batch: z.number().int().min(2).max(4096).default(128),
    /**
     * How the generator climbs the disagreement: `forward-differences` (DFME and MAZE: probes of
     * the target, bought), `substitute` (through the substitute, the target's answers held fixed:
     * free, biased), or `none` (the class-balance term alone).
     */
    disagreement: z.enum(['forward-differences', 'substitute', 'none']).default('forward-differences'),
    /** Random directions per generated row for the forward differences (DFME's m). */
    directions: z.number().int().min(1).max(64).default(1),
    /** Forward-difference step, in the generator's pre-sigmoid units. */
    epsilon: z.number().positive().max(10).default(0.05),
    /**
     * Image inputs: the generator makes rows this many times coarser, upsampled bilinearly (1: full
     * size). 2 (14x14 for MNIST) beat 4 by 6.7 fidelity points at 10,000 queries on mnist-cnn, and
     * full size fell far behind (docs/strategies.md): coarser rows cannot draw strokes, finer ones
     * give the forward differences too many dimensions.
     */
    upsample: z.number().int().positive().max(16).default(2),
    /** Initial bias of the generator's pre-sigmoid outputs (negative: rows start near the domain's minimum). */
    bias: z.number().min(-10).max(10).default(-2),
    latent: z.number().int().positive().max(1024).default(64),
    hidden: z.number().int().positive().max(4096).default(256),
    learningRate: z.number().positive().max(1).default(0.001),
    /**
     * Weight of a class-balance term through the substitute (free: no queries): the entropy of the
     * batch's mean substitute prediction, DAFL's information loss, which keeps one batch from
     * collapsing onto one class. 0: off (as DFME publishes it). 40 was the best of 10, 20, 40 and 80
     * on mnist-cnn (3 seeds) and beat 10 on digits-mlp (docs/strategies.md).
     */
    diversity: z.number().min(0).max(100).default(40),
    /**
     * Balance by the target's own answers, added to the class balance (in its units, so with
     * diversity 0 it is off): a reward for substitute probability on the classes the target has
     * answered less often than 1/k in the recent rows (`answerMemory`), log(1/k) - log(f_c + 0.01)
     * per unit of mass. The class balance alone trusts the substitute, which is refit only at the
     * checkpoints: between two, the generator learns to make rows the substitute spreads over every
     * class and the target calls one of a few, and at 100,000 queries on mnist-cnn the target
     * answered 4 of its 10 classes from 20,000 queries on. At 1 it kept 6, and fidelity at 100,000
     * was 0.8370 against 0.7190 without it (seed 0); at 10,000 the two are within the seeds'
     * spread (docs/strategies.md). 0: off.
     */
    answerBalance: z.number().min(0).max(10).default(1),
    /** Per batch, how much of the answers' class histogram is kept (an exponential window). */
    answerMemory: z.number().min(0).max(1).default(0.95),
  })
  .strict();
export type DataFreeOptions = z.infer<typeof dataFreeOptions>;

/** Probabilities below this are read as this, so that log-probabilities stay finite. */
const PROB_FLOOR = 1e-6;

/** The batch last proposed: the generator pass of its base rows and the probes' directions. */
interface Pending {
  readonly pass: GeneratorPass;
  /** Full-size pre-sigmoid values of the base rows. */
  readonly fine: Float32Array;
  /** Base rows that have probes (the first `probed` of them). */
  readonly probed: number;
  readonly directions: number;
  /** [probed * directions, generator outputs] unit directions in the generator's (coarse) space. */
  readonly u: Float32Array;
  readonly rows: number;
}

/** Row-centred log-probabilities ("logits" recovered from probabilities), [n, k]. */
function centredLogits(p: Float32Array, k: number): Float32Array {
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i += k) {
    let mean = 0;
    for (let c = 0; c < k; c++) {
      out[i + c] = Math.log(Math.max(PROB_FLOOR, p[i + c]));
      mean += out[i + c];
    }
    mean /= k;
    for (let c = 0; c < k; c++) out[i + c] -= mean;
  }
  return out;
}

/** The target's probabilities for the rows bought, one-hot when it gave labels only. */
function targetProbs(rows: BoughtRows, k: number): Float32Array {
  if (rows.soft) return Float32Array.from(rows.soft.data);
  const p = new Float32Array(rows.labels.length * k);
  rows.labels.forEach((c, i) => {
    p[i * k + c] = 1;
  });
  return p;
}

/** The bilinear upsampling for image rows (read channels-last) when asked for; undefined otherwise. */
function upsamplerFor(info: ModelInfo, factor: number): Bilinear | undefined {
  const s = channelsLastShape(info.inputShape);
  if (factor === 1 || s.length !== 3) return undefined;
  return new Bilinear([s[0], s[1], s[2]], factor);
}

export function dataFreeStrategy(o: DataFreeOptions, rng: Rng): QueryStrategy {
  let generator: MlpGenerator | undefined;
  let up: Bilinear | undefined;
  let pending: Pending | undefined;
  let answerCounts: Float64Array | undefined;

  /** Adds a batch's answers to the decayed class histogram; returns each class's deficit, log(1/k) - log(f_c + 0.01). */
  const answered = (labels: Int32Array, k: number): Float64Array => {
    answerCounts ??= new Float64Array(k);
    for (let c = 0; c < k; c++) answerCounts[c] *= o.answerMemory;
    for (const l of labels) if (l >= 0 && l < k) answerCounts[l] += 1;
    const total = answerCounts.reduce((a, b) => a + b, 0) || 1;
    return Float64Array.from(answerCounts, (v) => Math.log(1 / k) - Math.log(v / total + 0.01));
  };

  const toRows = (a: Float32Array, n: number, info: ModelInfo): Tensor => {
    const { min, max } = info.domain;
    const x = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) x[i] = min + (max - min) / (1 + Math.exp(-a[i]));
    return tensor(x, [n, ...info.inputShape]);
  };
  const enlarge = (coarse: Float32Array, n: number): Float32Array => (up ? up.forward(coarse, n) : coarse);

  /** One generator step from the answers to the pending batch. */
  async function learn(info: ModelInfo, substitute: Predictor, answers: BoughtRows): Promise<void> {
    if (!generator || !pending || answers.labels.length !== pending.rows) return;
    const { pass, probed, directions: m, u } = pending;
    const dg = generator.shape.outputs;
    const k = info.classes;
    const n = pass.n;
    const t = centredLogits(targetProbs(answers, k), k);
    const probs = (await substitute.predict(answers.x)).scores?.data;
    if (!probs) return;
    const s = centredLogits(probs, k);
    const loss = (row: number): number => {
      let l = 0;
      for (let c = 0; c < k; c++) l += Math.abs(s[row * k + c] - t[row * k + c]);
      return l;
    };
    const da = new Float32Array(n * dg);
    if (m > 0) {
      for (let i = 0; i < probed; i++) {
        const base = loss(i);
        for (let j = 0; j < m; j++) {
          const probe = i * m + j;
          const slope = (dg / m) * ((loss(n + probe) - base) / o.epsilon);
          const uj = u.subarray(probe * dg, (probe + 1) * dg);
          for (let v = 0; v < dg; v++) da[i * dg + v] += (slope * uj[v]) / probed;
        }
      }
    }
    // The terms taken through the substitute, as d objective / d logits per base row.
    const dLogits = new Float32Array(n * k);
    let through = false;
    if (o.disagreement === 'substitute') {
      // The disagreement with the target's answer held fixed: the centred sign of (s - t).
      through = true;
      for (let i = 0; i < n; i++) {
        let mean = 0;
        for (let c = 0; c < k; c++) mean += Math.sign(s[i * k + c] - t[i * k + c]) / k;
        for (let c = 0; c < k; c++) dLogits[i * k + c] += (Math.sign(s[i * k + c] - t[i * k + c]) - mean) / n;
      }
    }
    if (o.diversity > 0) {
      // H(pbar) + b sum_c d_c pbar_c, pbar = mean_i p_i: d/dlogit_i = (1/n) (p_i * g - p_i (p_i . g)),
      // g_c = -(log pbar_c + 1) + b d_c, d_c the target's deficit of class c (answered()).
      through = true;
      const pbar = new Float32Array(k);
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) pbar[c] += probs[i * k + c] / n;
      const deficit = answered(answers.labels, k);
      const g = Array.from(pbar, (v, c) => -(Math.log(Math.max(PROB_FLOOR, v)) + 1) + o.answerBalance * deficit[c]);
      for (let i = 0; i < n; i++) {
        let dot = 0;
        for (let c = 0; c < k; c++) dot += probs[i * k + c] * g[c];
        for (let c = 0; c < k; c++) dLogits[i * k + c] += (o.diversity * probs[i * k + c] * (g[c] - dot)) / n;
      }
    }
    if (through && isDifferentiable(substitute)) {
      // inputGradients(x, p - w) = J^T w: the gradient of the logits' objective w with respect to x.
      const targets = new Float32Array(n * k);
      for (let i = 0; i < n * k; i++) targets[i] = probs[i] - dLogits[i];
      const d = inputSize(info);
      const base = tensor(answers.x.data.subarray(0, n * d), [n, ...info.inputShape]);
      const gx = (await substitute.inputGradients(base, tensor(targets, [n, k]))).data;
      const width = info.domain.max - info.domain.min;
      const fineGrad = new Float32Array(n * d);
      for (let i = 0; i < n * d; i++) {
        const sig = 1 / (1 + Math.exp(-pending.fine[i]));
        fineGrad[i] = gx[i] * width * sig * (1 - sig);
      }
      const coarseGrad = up ? up.backward(fineGrad, n) : fineGrad;
      for (let i = 0; i < da.length; i++) da[i] += coarseGrad[i];
    }
    generator.ascend(pass, da);
  }

  return {
    name: 'data-free',
    batchRows: o.batch,
    async propose(ctx, count) {
      const { info, substitute, latest } = ctx;
      const d = inputSize(info);
      if (!generator) {
        up = upsamplerFor(info, o.upsample);
        const outputs = up ? up.coarseSize : d;
        generator = new MlpGenerator({ latent: o.latent, hidden: o.hidden, outputs }, rng, o.learningRate, o.bias);
      }
      if ((up ? up.fineSize : generator.shape.outputs) !== d)
        throw new HeistError('HEIST_ERR_REQUIREMENTS', `data-free was built for rows of another size than ${d}`);
      if (substitute && latest) await learn(info, substitute, latest);
      pending = undefined;
      const rows = Math.min(count, o.batch);
      if (rows <= 0) return tensor(new Float32Array(0), [0, ...info.inputShape]);
      // Probes only once there is a substitute to disagree with (and, without probes, rows are all base).
      const m = substitute && o.disagreement === 'forward-differences' ? o.directions : 0;
      const probed = m > 0 ? Math.floor(rows / (m + 1)) : 0;
      const n = rows - probed * m;
      const dg = generator.shape.outputs;
      const pass = generator.forward(generator.sampleLatent(n, ctx.rng));
      const u = new Float32Array(probed * m * dg);
      const coarse = new Float32Array(rows * dg);
      coarse.set(pass.a);
      for (let p = 0; p < probed * m; p++) {
        const dir = u.subarray(p * dg, (p + 1) * dg);
        let norm = 0;
        for (let v = 0; v < dg; v++) {
          dir[v] = ctx.rng.normal();
          norm += dir[v] * dir[v];
        }
        norm = Math.sqrt(norm) || 1;
        const baseRow = Math.floor(p / m);
        for (let v = 0; v < dg; v++) {
          dir[v] /= norm;
          coarse[(n + p) * dg + v] = pass.a[baseRow * dg + v] + o.epsilon * dir[v];
        }
      }
      const fine = enlarge(coarse, rows);
      pending = { pass, fine: fine.subarray(0, n * d), probed, directions: m, u, rows };
      return toRows(fine, rows, info);
    },
  };
}

export const dataFree: StrategyEntry<DataFreeOptions> = {
  name: 'data-free',
  summary:
    "no pool needed: rows from a small generator that learns, batch by batch, where the substitute disagrees with the target (DFME's forward differences) while spreading over every class",
  paper:
    'J.-B. Truong et al., "Data-Free Model Extraction", CVPR 2021, arXiv:2011.14779; S. Kariyappa et al., "MAZE", CVPR 2021, arXiv:2005.03161; H. Chen et al., "Data-Free Learning of Student Networks", ICCV 2019, arXiv:1904.01186',
  options: dataFreeOptions,
  example: { batch: 6, hidden: 8, latent: 4, disagreement: 'substitute' },
  create: (options, deps) => dataFreeStrategy(options, deps.rng),
};
