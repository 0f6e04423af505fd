/**
 * @file Knockoff Nets' adaptive policy: a gradient bandit over the classes of the attacker's pool
 * (its own labels, which need not be the target's). Each bought row is one pull of the arm of its
 * pool class; its reward comes from the target's answer (and the substitute's). Each round first
 * replays the rows bought in the previous round as bandit steps, then draws this round's arms from
 * the softmax policy and, for each arm, an unused pool row of that class in the pool's seeded order.
 *
 * Rewards (Orekondy et al., section 4.1.2), y = the target's probabilities, ŷ = the substitute's:
 * - `certainty`: y_k1 - y_k2, the margin between the target's top two classes;
 * - `diversity`: sum_k max(0, y_k - mean of y_k over the previous `window` rewarded rows);
 * - `loss`: cross-entropy of ŷ against y;
 * - `all`: the three, each standardised by its running mean and deviation, summed (so that no one
 *   term dominates by its scale; the paper sums them).
 * Bandit update (Sutton and Barto, section 2.8): H(a) += lr (R - R̄)(1[a = A] - π(a)), with R̄ the
 * running mean reward. Label-only answers give one-hot y. Deviation from the paper: the substitute
 * is refitted per round, not per query, so the loss reward is computed with the substitute of the
 * round (fitted on those rows too), and arms are drawn a round at a time.
 * @see T. Orekondy, B. Schiele, M. Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019, arXiv:1812.02766.
 * @see R. S. Sutton, A. G. Barto, "Reinforcement Learning: An Introduction", 2nd ed., MIT Press 2018, section 2.8.
 */
import { z } from 'zod';
import type { Dataset } from '../core/dataset.js';
import { HeistError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { rowCount, sliceRows } from '../core/tensor.js';
import { negativeMargin } from './margin.js';
import { needsPool, poolOrderOf, PoolRows } from './pool-rows.js';
import type { ProposeContext, QueryStrategy, StrategyEntry } from './types.js';

const REWARDS = ['certainty', 'diversity', 'loss', 'all'] as const;
export type KnockoffReward = (typeof REWARDS)[number];

export const adaptiveOptions = z
  .object({
    reward: z.enum(REWARDS).default('all'),
    /** Bandit step size. */
    learningRate: z.number().positive().default(0.1),
    /** Rows the diversity reward compares against. */
    window: z.number().int().positive().default(25),
  })
  .strict();
export type AdaptiveOptions = z.infer<typeof adaptiveOptions>;

/** Running mean and variance (Welford). */
class Running {
  n = 0;
  mean = 0;
  private m2 = 0;

  add(v: number): void {
    this.n++;
    const d = v - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (v - this.mean);
  }

  /** v standardised by what was seen before it (0 until there is a spread). */
  standardise(v: number): number {
    const sd = this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0;
    return sd > 0 ? (v - this.mean) / sd : 0;
  }
}

function crossEntropy(y: Float32Array, yHat: Float32Array): number {
  let l = 0;
  for (let k = 0; k < y.length; k++) if (y[k] > 0) l -= y[k] * Math.log(Math.max(yHat[k], 1e-12));
  return l;
}

export function knockoffAdaptiveStrategy(pool: Dataset, rng: Rng, o: AdaptiveOptions): QueryStrategy {
  const classes = pool.y;
  if (!classes)
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `strategy "knockoff-adaptive" needs a labelled pool (its classes are the bandit's arms); "${pool.name}" has no labels`,
    );
  const rows = new PoolRows(pool, rng);
  const arms = classes.reduce((m, c) => Math.max(m, c), 0) + 1;
  const h = new Float64Array(arms);
  const baseline = new Running();
  const parts = { certainty: new Running(), diversity: new Running(), loss: new Running() };
  const recent: Float32Array[] = [];
  /** The arms of the rows proposed last round, in order: the tail of the bought rows. */
  let pending: number[] = [];

  const policy = (open: readonly boolean[]): Float64Array => {
    const pi = new Float64Array(arms);
    let max = Number.NEGATIVE_INFINITY;
    for (let a = 0; a < arms; a++) if (open[a]) max = Math.max(max, h[a]);
    let sum = 0;
    for (let a = 0; a < arms; a++) {
      pi[a] = open[a] ? Math.exp(h[a] - max) : 0;
      sum += pi[a];
    }
    for (let a = 0; a < arms; a++) pi[a] /= sum;
    return pi;
  };

  function reward(y: Float32Array, yHat: Float32Array | undefined): number {
    const cert = -negativeMargin(y);
    let div = 0;
    if (recent.length > 0)
      for (let k = 0; k < y.length; k++) {
        let m = 0;
        for (const r of recent) m += r[k];
        div += Math.max(0, y[k] - m / recent.length);
      }
    recent.push(y);
    if (recent.length > o.window) recent.shift();
    const loss = yHat ? crossEntropy(y, yHat) : 0;
    if (o.reward === 'certainty') return cert;
    if (o.reward === 'diversity') return div;
    if (o.reward === 'loss') return loss;
    const r = parts.certainty.standardise(cert) + parts.diversity.standardise(div) + parts.loss.standardise(loss);
    parts.certainty.add(cert);
    parts.diversity.add(div);
    parts.loss.add(loss);
    return r;
  }

  /** The previous round's rows as bandit steps, in the order they were bought. */
  async function learn({ boughtRows, substitute, info }: ProposeContext): Promise<void> {
    if (!boughtRows || pending.length === 0) return;
    const n = rowCount(boughtRows.x);
    const start = n - pending.length;
    const k = info.classes;
    const mine = sliceRows(boughtRows.x, start, n);
    const yHat = substitute ? (await substitute.predict(mine)).scores : undefined;
    const open = Array.from({ length: arms }, () => true);
    for (const [i, arm] of pending.entries()) {
      const y = boughtRows.soft
        ? boughtRows.soft.data.slice((start + i) * k, (start + i + 1) * k)
        : Float32Array.from({ length: k }, (_, c) => (c === boughtRows.labels[start + i] ? 1 : 0));
      const r = reward(y, yHat?.data.subarray(i * k, (i + 1) * k));
      const pi = policy(open);
      for (let a = 0; a < arms; a++) h[a] += o.learningRate * (r - baseline.mean) * ((a === arm ? 1 : 0) - pi[a]);
      baseline.add(r);
    }
    pending = [];
  }

  return {
    name: 'knockoff-adaptive',
    get available() {
      return rows.available;
    },
    async propose(ctx, count) {
      rows.check(ctx.info);
      await learn(ctx);
      // Remaining rows of each class, in the seeded order (positions into the remaining rows).
      const byArm: number[][] = Array.from({ length: arms }, () => []);
      rows.forEachRemaining((index, position) => byArm[classes[index]].push(position));
      const next = byArm.map(() => 0);
      const chosen: number[] = [];
      const arm: number[] = [];
      while (chosen.length < count) {
        const open = byArm.map((list, a) => next[a] < list.length);
        if (!open.some(Boolean)) break;
        const pi = policy(open);
        let u = ctx.rng.next();
        let a = 0;
        while (a < arms - 1 && (u >= pi[a] || !open[a])) {
          u -= pi[a];
          a++;
        }
        if (!open[a]) a = open.lastIndexOf(true); // rounding left u past the last open arm
        chosen.push(byArm[a][next[a]++]);
        arm.push(a);
      }
      pending = arm;
      return rows.take(chosen, ctx.info);
    },
  };
}

export const knockoffAdaptive: StrategyEntry<AdaptiveOptions> = {
  name: 'knockoff-adaptive',
  summary:
    "Knockoff Nets' adaptive policy: a gradient bandit over the pool's classes, rewarded by certainty, diversity and loss; needs --pool",
  paper:
    'T. Orekondy, B. Schiele, M. Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019, arXiv:1812.02766',
  options: adaptiveOptions,
  example: { reward: 'all' },
  create: (options, deps) => knockoffAdaptiveStrategy(needsPool('knockoff-adaptive', deps), poolOrderOf(deps), options),
};
