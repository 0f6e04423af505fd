/**
 * @file DeepFool active learning (DFAL), as ActiveThief uses it: buy the pool rows closest to the
 * substitute's decision boundary, the distance estimated by DeepFool's linearisation. For a row x
 * with predicted class k̂ and each other class k, f_k = z_k - z_k̂ and w_k = ∇z_k - ∇z_k̂; the
 * boundary towards k lies |f_k| / ||w_k|| away, and the row's distance is the smallest over k.
 * Logit differences come from the probabilities (z_k - z_k̂ = log p_k - log p_k̂), and logit-gradient
 * differences from cross-entropy gradients to one-hot targets, which the substitute gives:
 * ∇CE_c = -∇z_c + Σ_j p_j ∇z_j, so ∇z_k - ∇z_k̂ = ∇CE_k̂ - ∇CE_k. Only the `candidates` classes
 * the substitute ranks next after k̂ are tried (DeepFool's overshoot iterations are not run: one
 * linearisation ranks rows, it does not have to cross the boundary).
 * With `kCenter` = m > 0 (DFAL + k-center, ActiveThief's combination; `dfal-k-center` is that
 * entry), the m × count rows nearest the boundary are narrowed down to `count` by k-center
 * selection in the substitute's probability space, away from everything bought.
 * @see M. Ducoffe, F. Precioso, "Adversarial Active Learning for Deep Networks: a Margin Based Approach", arXiv:1802.09841, 2018.
 * @see S.-M. Moosavi-Dezfooli, A. Fawzi, P. Frossard, "DeepFool: a simple and accurate method to fool deep neural networks", CVPR 2016, arXiv:1511.04599.
 * @see S. Pal et al., "ActiveThief: Model Extraction Using Active Learning and Unannotated Public Data", AAAI 2020.
 */
import { z } from 'zod';
import type { Dataset } from '../core/dataset.js';
import { type DifferentiablePredictor, isDifferentiable } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import { type Tensor, takeRows } from '../core/tensor.js';
import { centerProbabilities, kCenterGreedy } from './k-center.js';
import { needsPool, poolOrderOf, PoolRows, topPositions } from './pool-rows.js';
import type { QueryStrategy, StrategyEntry } from './types.js';

export const dfalOptions = z
  .object({
    /** Classes tried per row after the predicted one, by the substitute's ranking. */
    candidates: z.number().int().min(1).max(100).default(3),
    /** 0: DFAL alone; m > 0: k-center over the m × count rows nearest the boundary. */
    kCenter: z.number().int().min(0).max(100).default(0),
  })
  .strict();
export type DfalOptions = z.infer<typeof dfalOptions>;

/** Rows per gradient call: bounds memory for large pools. */
const CHUNK = 512;

/** DeepFool's linearised distance to the nearest boundary, per row of x (probabilities probs). */
async function boundaryDistances(
  substitute: DifferentiablePredictor,
  x: Tensor,
  probs: Tensor,
  candidates: number,
): Promise<Float64Array> {
  const n = x.shape[0];
  const k = probs.shape[1];
  const d = x.data.length / Math.max(n, 1);
  const out = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let start = 0; start < n; start += CHUNK) {
    const rows = Array.from({ length: Math.min(CHUNK, n - start) }, (_, i) => start + i);
    const xs = takeRows(x, rows);
    const shaped: Tensor = { data: xs.data, shape: [rows.length, ...x.shape.slice(1)] };
    // Classes by probability, highest first, per row: the top is k̂, the next ones the candidates.
    const order = rows.map((r) =>
      Array.from({ length: k }, (_, c) => c).sort((a, b) => probs.data[r * k + b] - probs.data[r * k + a] || a - b),
    );
    const gradFor = async (pick: (i: number) => number): Promise<Float32Array> => {
      const t = new Float32Array(rows.length * k);
      rows.forEach((_, i) => {
        t[i * k + pick(i)] = 1;
      });
      return (await substitute.inputGradients(shaped, { data: t, shape: [rows.length, k] })).data;
    };
    const top = await gradFor((i) => order[i][0]);
    for (let c = 1; c <= Math.min(candidates, k - 1); c++) {
      const other = await gradFor((i) => order[i][c]);
      rows.forEach((r, i) => {
        const pTop = probs.data[r * k + order[i][0]];
        const pOther = probs.data[r * k + order[i][c]];
        const f = Math.abs(Math.log(Math.max(pOther, 1e-30)) - Math.log(Math.max(pTop, 1e-30)));
        let norm = 0;
        for (let j = 0; j < d; j++) {
          const w = top[i * d + j] - other[i * d + j];
          norm += w * w;
        }
        out[r] = Math.min(out[r], f / Math.max(Math.sqrt(norm), 1e-12));
      });
    }
  }
  return out;
}

export function dfalStrategy(name: string, pool: Dataset, rng: Rng, o: DfalOptions): QueryStrategy {
  const rows = new PoolRows(pool, rng);
  return {
    name,
    get available() {
      return rows.available;
    },
    async propose({ info, substitute, boughtRows }, count) {
      rows.check(info);
      if (count <= 0 || rows.available === 0) return rows.takeFirst(0, info);
      const probs = isDifferentiable(substitute) ? await rows.probabilities(substitute, info) : undefined;
      if (!probs || !isDifferentiable(substitute)) return rows.takeFirst(count, info);
      const x = rows.rows(0, rows.available, info);
      const distance = await boundaryDistances(substitute, x, probs, o.candidates);
      // Nearest first: the highest score is the smallest distance.
      const nearest = (m: number) =>
        topPositions(
          distance.map((v) => -v),
          m,
        );
      if (o.kCenter === 0) return rows.take(nearest(count), info);
      const shortlist = nearest(o.kCenter * count);
      const k = probs.shape[1];
      const candidates: Tensor = { data: takeRows(probs, shortlist).data, shape: [shortlist.length, k] };
      const centers = boughtRows ? await centerProbabilities(substitute, boughtRows.x) : undefined;
      return rows.take(
        kCenterGreedy(candidates, centers, count).map((i) => shortlist[i]),
        info,
      );
    },
  };
}

export const dfal: StrategyEntry<DfalOptions> = {
  name: 'dfal',
  summary:
    "pool rows nearest the substitute's decision boundary by DeepFool's linearised distance (kCenter=m: DFAL + k-center, ActiveThief); needs --pool",
  paper:
    'M. Ducoffe, F. Precioso, "Adversarial Active Learning for Deep Networks: a Margin Based Approach", arXiv:1802.09841; as ActiveThief uses it',
  options: dfalOptions,
  example: { kCenter: 2 },
  create: (options, deps) => dfalStrategy('dfal', needsPool('dfal', deps), poolOrderOf(deps), options),
};
