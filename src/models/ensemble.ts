/**
 * @file Several classifiers served as one: probabilities averaged, or labels voted (ties go to the
 * lower class). Members must agree on input shape, classes and domain. An ensemble makes a clone
 * approximate a committee rather than one network; what that changes for attackers, and at what
 * latency, is measured by bench/ensemble.ts (`npm run bench -- ensemble`; docs/defenses.md).
 * @see L. Kariyappa, A. Prakash, M. Qureshi, "Protecting DNNs from Theft using an Ensemble of Diverse Models", ICLR 2021.
 */
import { HeistError } from '../core/errors.js';
import { type Predictor, probsPrediction, labelPrediction, type Prediction } from '../core/prediction.js';
import { rowCount } from '../core/tensor.js';

export type EnsembleCombine = 'average' | 'vote';

export function ensemblePredictor(name: string, members: readonly Predictor[], combine: EnsembleCombine): Predictor {
  if (members.length < 2) throw new HeistError('HEIST_ERR_BAD_CONFIG', `ensemble "${name}" needs at least 2 members`);
  const first = members[0].info;
  for (const m of members.slice(1)) {
    const i = m.info;
    if (
      i.classes !== first.classes ||
      i.inputShape.join('x') !== first.inputShape.join('x') ||
      i.domain.min !== first.domain.min ||
      i.domain.max !== first.domain.max
    )
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `ensemble "${name}": members disagree on input shape, classes or domain (${first.inputShape.join('x')}/${first.classes} vs ${i.inputShape.join('x')}/${i.classes})`,
      );
  }
  if (combine === 'average' && members.some((m) => m.info.output !== 'probs'))
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `ensemble "${name}": averaging needs probability outputs from every member`,
    );
  const k = first.classes;
  return {
    info: { ...first, name, output: combine === 'average' ? 'probs' : 'label' },
    async predict(x) {
      const answers: Prediction[] = await Promise.all(members.map((m) => m.predict(x)));
      const n = rowCount(x);
      if (combine === 'vote') {
        const labels = new Int32Array(n);
        const votes = new Int32Array(k);
        for (let r = 0; r < n; r++) {
          votes.fill(0);
          for (const a of answers) votes[a.labels[r]]++;
          let best = 0;
          for (let c = 1; c < k; c++) if (votes[c] > votes[best]) best = c;
          labels[r] = best;
        }
        return labelPrediction(labels);
      }
      const sum = new Float32Array(n * k);
      for (const a of answers) {
        const s = a.scores!.data;
        for (let i = 0; i < sum.length; i++) sum[i] += s[i];
      }
      for (let i = 0; i < sum.length; i++) sum[i] /= answers.length;
      return probsPrediction({ data: sum, shape: [n, k] });
    },
  };
}
