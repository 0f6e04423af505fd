/**
 * @file Jacobian-based dataset augmentation (JBDA): start from a few natural seed rows, then each
 * round take the rows bought so far and step each one along the sign of the substitute's gradient
 * for the label the target gave it, x' = clip(x + λ_ρ sign(∂p_label/∂x)), so that the new rows probe
 * where the substitute's decision for that class changes fastest. The step flips sign every `tau`
 * rounds (λ_ρ = λ (-1)^floor(ρ/τ)), which keeps the synthetic rows near the data instead of walking
 * away from it; when a round asks for fewer rows than were bought, the rows to augment are a uniform
 * sample of them (reservoir sampling, Papernot et al.'s bound on the growth of the set). When a round
 * asks for more, the rest are fresh seeds from the pool. The direction uses the cross-entropy to the
 * one-hot label: sign(∂p_label/∂x) = -sign(∂CE/∂x).
 * @see N. Papernot et al., "Practical Black-Box Attacks against Machine Learning", ASIA CCS 2017, arXiv:1602.02697.
 */
import { z } from 'zod';
import type { Dataset } from '../core/dataset.js';
import { type ModelInfo, isDifferentiable } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import { type Tensor, concatRows, rowCount, takeRows } from '../core/tensor.js';
import { needsPool, poolOrderOf, PoolRows } from './pool-rows.js';
import type { QueryStrategy, StrategyEntry } from './types.js';

export const jacobianOptions = z
  .object({
    /** Step size, as a fraction of the input domain's width. */
    lambda: z.number().positive().max(1).default(0.1),
    /** Rounds between sign flips of the step. */
    tau: z.number().int().positive().default(3),
  })
  .strict();
export type JacobianOptions = z.infer<typeof jacobianOptions>;

/** `count` distinct indices of 0..n-1, uniformly (reservoir sampling, algorithm R). */
function reservoir(n: number, count: number, rng: Rng): number[] {
  const out = Array.from({ length: Math.min(n, count) }, (_, i) => i);
  for (let i = out.length; i < n; i++) {
    const j = rng.int(i + 1);
    if (j < out.length) out[j] = i;
  }
  return out.sort((a, b) => a - b);
}

export function jacobianStrategy(pool: Dataset, rng: Rng, o: JacobianOptions): QueryStrategy {
  const seeds = new PoolRows(pool, rng);
  let augmentations = 0;

  const shaped = (t: Tensor, info: ModelInfo): Tensor => ({ data: t.data, shape: [rowCount(t), ...info.inputShape] });

  return {
    name: 'jacobian-augmentation',
    async propose(ctx, count) {
      const { info, substitute, boughtRows } = ctx;
      seeds.check(info);
      if (count <= 0) return seeds.takeFirst(0, info);
      if (!boughtRows || !isDifferentiable(substitute)) return seeds.takeFirst(count, info);
      const picked = reservoir(rowCount(boughtRows.x), count, ctx.rng);
      const x = shaped(takeRows(boughtRows.x, picked), info);
      const k = info.classes;
      const onehot = new Float32Array(picked.length * k);
      picked.forEach((row, i) => {
        onehot[i * k + boughtRows.labels[row]] = 1;
      });
      const g = await substitute.inputGradients(x, { data: onehot, shape: [picked.length, k] });
      const { min, max } = info.domain;
      const step = o.lambda * (max - min) * (Math.floor(augmentations / o.tau) % 2 === 0 ? 1 : -1);
      augmentations++;
      const out = new Float32Array(x.data.length);
      for (let i = 0; i < out.length; i++) {
        // Up p_label = down the cross-entropy to the label.
        const v = x.data[i] - step * Math.sign(g.data[i]);
        out[i] = Math.min(max, Math.max(min, v));
      }
      const made: Tensor = { data: out, shape: [picked.length, ...info.inputShape] };
      if (picked.length >= count) return made;
      const more = seeds.takeFirst(count - picked.length, info);
      return rowCount(more) === 0 ? made : concatRows([made, more]);
    },
  };
}

export const jacobianAugmentation: StrategyEntry<JacobianOptions> = {
  name: 'jacobian-augmentation',
  summary:
    "Papernot's JBDA: seed rows from --pool, then the bought rows stepped along the sign of the substitute's gradient for their label",
  paper: 'N. Papernot et al., "Practical Black-Box Attacks against Machine Learning", ASIA CCS 2017, arXiv:1602.02697',
  options: jacobianOptions,
  create: (options, deps) => jacobianStrategy(needsPool('jacobian-augmentation', deps), poolOrderOf(deps), options),
};
