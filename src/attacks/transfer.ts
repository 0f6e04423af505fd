/**
 * @file Transfer attacks: adversarial examples crafted on a substitute (white box, free) and tried on
 * the target (black box, paid), the payoff of a stolen copy that needs no fidelity at all.
 * - FGSM: x' = clip(x + ε sign(∇x CE(f(x), y)));
 * - PGD: steps of α = 2.5 ε / steps along the gradient sign, each projected back to the L∞ ball of
 *   radius ε around x and into the input domain; starts at x (no random start: deterministic);
 * - noise: x + ε s with s a uniform random sign per value, the substitute-free baseline of the same
 *   L∞ norm.
 * y is the target's own label for x (what an attacker knows), and success on the target means its
 * label for x' differs from its label for x. ε is a fraction of the domain's width.
 * @see I. Goodfellow, J. Shlens, C. Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015, arXiv:1412.6572.
 * @see A. Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018, arXiv:1706.06083.
 * @see N. Papernot et al., "Practical Black-Box Attacks against Machine Learning", ASIA CCS 2017, arXiv:1602.02697.
 */
import type { DifferentiablePredictor, InputDomain } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';

export type TransferMethod = 'fgsm' | 'pgd' | 'noise';

export interface CraftOptions {
  readonly method: TransferMethod;
  /** L∞ radius as a fraction of the domain's width. */
  readonly epsilon: number;
  readonly domain: InputDomain;
  /** PGD steps (default 10). */
  readonly steps?: number;
  /** For the noise baseline. */
  readonly rng?: Rng;
}

function oneHot(labels: Int32Array, k: number): Tensor {
  const data = new Float32Array(labels.length * k);
  labels.forEach((c, i) => {
    data[i * k + c] = 1;
  });
  return { data, shape: [labels.length, k] };
}

const clip = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Adversarial versions of the rows x (labels: the target's labels for x). */
export async function craft(
  substitute: DifferentiablePredictor,
  x: Tensor,
  labels: Int32Array,
  o: CraftOptions,
): Promise<Tensor> {
  const { min, max } = o.domain;
  const eps = o.epsilon * (max - min);
  if (o.method === 'noise') {
    const rng = o.rng;
    if (!rng) throw new Error('the noise baseline needs an rng');
    return { data: x.data.map((v) => clip(v + (rng.next() < 0.5 ? -eps : eps), min, max)), shape: [...x.shape] };
  }
  const targets = oneHot(labels, substitute.info.classes);
  if (o.method === 'fgsm') {
    const g = await substitute.inputGradients(x, targets);
    return { data: x.data.map((v, i) => clip(v + eps * Math.sign(g.data[i]), min, max)), shape: [...x.shape] };
  }
  const steps = o.steps ?? 10;
  const alpha = (2.5 * eps) / steps;
  let adv: Tensor = { data: Float32Array.from(x.data), shape: [...x.shape] };
  for (let s = 0; s < steps; s++) {
    const g = await substitute.inputGradients(adv, targets);
    const next = new Float32Array(adv.data.length);
    for (let i = 0; i < next.length; i++) {
      const stepped = adv.data[i] + alpha * Math.sign(g.data[i]);
      next[i] = clip(clip(stepped, x.data[i] - eps, x.data[i] + eps), min, max);
    }
    adv = { data: next, shape: [...x.shape] };
  }
  return adv;
}

/** Share of rows whose label changed: `before` and `after` are the target's labels for x and x'. */
export function successRate(before: Int32Array, after: Int32Array): number {
  let changed = 0;
  for (let i = 0; i < before.length; i++) if (after[i] !== before[i]) changed++;
  return before.length === 0 ? 0 : changed / before.length;
}
