/**
 * @file Default fit settings per substitute architecture: Adam with cosine annealing of the
 * learning rate; image substitutes also train on randomly shifted copies (up to 2 pixels). Every round retrains from scratch; small bought sets get extra epochs (minSteps)
 * because a substitute fitted on 100 rows for a few steps has not converged. Tuned on the
 * digits-mlp and mnist-cnn scenarios (bench/curve.ts; figures in bench/results/).
 */
import type { Arch } from '../surrogates/types.js';
import type { FitSettings } from './plan.js';

export const fitDefaults: Readonly<Record<Arch, FitSettings>> = {
  logreg: { epochs: 20, minSteps: 300, maxEpochs: 300, batchSize: 32, learningRate: 0.01, schedule: 'cosine' },
  mlp: { epochs: 20, minSteps: 400, maxEpochs: 300, batchSize: 32, learningRate: 0.003, schedule: 'cosine' },
  cnn: { epochs: 20, minSteps: 1000, maxEpochs: 300, batchSize: 32, learningRate: 0.002, schedule: 'cosine', shiftAugment: 2 },
};
