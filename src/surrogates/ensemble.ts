/**
 * @file A substitute made of K independently initialised networks of one arch, fitted on the same
 * bought rows, each with its own seeded shuffle and augmentation, that predicts the softmax of
 * their mean logits; toSpec() writes it as one network (merge-specs.ts). What a steal gets with `--ensemble K`. Deep ensembles are
 * more accurate than their members (Lakshminarayanan et al. 2017), and adversarial examples crafted
 * on an ensemble of substitutes transfer to an unseen model far more often than those crafted on
 * one (Liu et al. 2017): measured here in docs/strategies.md.
 * @see B. Lakshminarayanan, A. Pritzel, C. Blundell, "Simple and Scalable Predictive Uncertainty
 * Estimation using Deep Ensembles", NeurIPS 2017, arXiv:1612.01474.
 * @see Y. Liu, X. Chen, C. Liu, D. Song, "Delving into Transferable Adversarial Examples and
 * Black-box Attacks", ICLR 2017, arXiv:1611.02770.
 */
import { HeistError } from '../core/errors.js';
import { type ModelInfo, type Prediction, probsPrediction } from '../core/prediction.js';
import { type Tensor, rowCount, tensor } from '../core/tensor.js';
import type { NetworkSpec } from '../models/network-spec.js';
import { mergeSpecs } from './merge-specs.js';
import type { Arch, FitOptions, FitReport, Surrogate, TrainingSet } from './types.js';

/** The most members an ensemble takes: each one is a full fit, and the merged layers grow as K². */
export const MAX_ENSEMBLE_MEMBERS = 16;

/** log of the smallest positive float32: where a member's probability underflowed to 0. */
const LOG_FLOOR = Math.log(1.4e-45);

class EnsembleSurrogate implements Surrogate {
  readonly arch: Arch;
  readonly info: ModelInfo;
  private readonly members: Surrogate[];

  constructor(members: Surrogate[]) {
    this.members = members;
    this.arch = members[0].arch;
    this.info = members[0].info;
  }

  private live(): Surrogate[] {
    if (this.members.length === 0) throw new HeistError('HEIST_ERR_INTERNAL', 'surrogate used after dispose()');
    return this.members;
  }

  /**
   * Each member's probabilities p_k, and q = softmax(mean_k z_k) = exp(mean_k log p_k) renormalised
   * (log p_k is z_k less a constant per row): what the merged network of toSpec() computes, at the
   * cost of the K members rather than of the merged layers, which grow as K squared.
   */
  private async probabilities(x: Tensor): Promise<{ members: Float32Array[]; q: Float32Array }> {
    const members = await Promise.all(this.live().map(async (m) => (await m.predict(x)).scores!.data));
    const c = this.info.classes;
    const n = rowCount(x);
    const q = new Float32Array(n * c);
    const mean = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      mean.fill(0);
      for (const p of members)
        for (let j = 0; j < c; j++) mean[j] += Math.max(LOG_FLOOR, Math.log(p[i * c + j])) / members.length;
      let top = -Infinity;
      for (let j = 0; j < c; j++) top = Math.max(top, mean[j]);
      let sum = 0;
      for (let j = 0; j < c; j++) sum += mean[j] = Math.exp(mean[j] - top);
      for (let j = 0; j < c; j++) q[i * c + j] = mean[j] / sum;
    }
    return { members, q };
  }

  async predict(x: Tensor): Promise<Prediction> {
    return probsPrediction(tensor((await this.probabilities(x)).q, [rowCount(x), this.info.classes]));
  }

  /**
   * d CE(q, t) / dx = (1/K) sum_k J_k^T (q - t), with J_k member k's logit Jacobian. Member k's own
   * input gradient to targets t_k is J_k^T (p_k - t_k), so t_k = p_k - q + t gives its term; t_k
   * sums to 1 as t does, and the cross-entropy's gradient is linear in its targets.
   */
  async inputGradients(x: Tensor, targets: Tensor): Promise<Tensor> {
    const { members, q } = await this.probabilities(x);
    const out = new Float32Array(x.data.length);
    const K = members.length;
    for (const [k, member] of this.live().entries()) {
      const t = new Float32Array(q.length);
      for (let i = 0; i < t.length; i++) t[i] = members[k][i] - q[i] + targets.data[i];
      const g = await member.inputGradients(x, tensor(t, targets.shape));
      for (let i = 0; i < out.length; i++) out[i] += g.data[i] / K;
    }
    return tensor(out, x.shape);
  }

  /**
   * Fits every member in turn, member k with the stream `member-k` of the fit's Rng (its shuffles
   * and shifts). onEpoch hears every member's epochs, so a progress bar runs K times.
   */
  async fit(data: TrainingSet, o: FitOptions): Promise<FitReport> {
    const start = Date.now();
    let samplesSeen = 0;
    let loss = 0;
    let epochs = 0;
    for (const [k, member] of this.live().entries()) {
      const r = await member.fit(data, {
        ...o,
        rng: o.rng.fork(`member-${k}`),
      });
      samplesSeen += r.samplesSeen;
      loss += r.finalLoss / this.members.length;
      epochs = r.epochs;
    }
    return { epochs, samplesSeen, finalLoss: loss, wallMs: Date.now() - start };
  }

  toSpec(): NetworkSpec {
    return mergeSpecs(this.members.map((m) => m.toSpec()));
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
    this.members.length = 0;
  }
}

/** One substitute of `members` (two or more, of one arch) that predicts their mean logits. */
export function ensembleOf(members: Surrogate[]): Surrogate {
  if (members.length < 2 || members.length > MAX_ENSEMBLE_MEMBERS)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `an ensemble takes 2 to ${MAX_ENSEMBLE_MEMBERS} members, got ${members.length}`,
    );
  return new EnsembleSurrogate(members);
}
