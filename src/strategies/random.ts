/**
 * @file Uniform random queries over the input domain the target declares: the baseline that needs
 * no data at all.
 * @see F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016 (uniform retraining baseline).
 */
import { z } from 'zod';
import { inputSize } from '../core/prediction.js';
import type { QueryStrategy, StrategyEntry } from './types.js';

export function randomStrategy(): QueryStrategy {
  return {
    name: 'random',
    async propose({ info, rng }, count) {
      const d = inputSize(info);
      const data = new Float32Array(count * d);
      const { min, max } = info.domain;
      for (let i = 0; i < data.length; i++) data[i] = rng.uniform(min, max);
      return { data, shape: [count, ...info.inputShape] };
    },
  };
}

export const random: StrategyEntry<Record<string, never>> = {
  name: 'random',
  summary: 'uniform over the input domain the target declares; needs no data',
  paper:
    'F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016 (uniform retraining baseline)',
  options: z.object({}).strict(),
  create: () => randomStrategy(),
};
