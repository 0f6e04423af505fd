/**
 * @file 'relu-jagielski': functionally equivalent extraction of a one-hidden-layer ReLU network
 * from its logits (or probabilities, as log-ratios). Critical points by binary search on random
 * lines; each neuron's weights and bias, up to scale and sign, from the jump of the gradient
 * (finite differences on both sides of the critical point); signs by freezing the other neurons;
 * the output layer by least squares. Defaults favour fidelity (float32 answers suffice).
 * @see M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot, "High Accuracy and High Fidelity Extraction of Neural Networks", USENIX Security 2020, arXiv:1909.01838, §6 (functionally equivalent extraction).
 */
import { inputSize } from '../../../core/prediction.js';
import { type Extractor, extractorEntry } from '../types.js';
import { type ReluAttackSettings, type ReluExtractorOptions, reluExtractorOptions, runReluAttack } from './attack.js';

export function createReluJagielski(o: ReluExtractorOptions = {}): Extractor {
  const settings: ReluAttackSettings = {
    strategy: 'bisect',
    hidden: o.hidden,
    maxDepth: 1,
    timeLimitMs: o.timeLimitMs ?? 300_000,
    maxLines: o.maxLines ?? 64,
    patience: 8,
  };
  return {
    name: 'relu-jagielski',
    paper:
      'Jagielski et al., "High Accuracy and High Fidelity Extraction of Neural Networks", USENIX Security 2020, arXiv:1909.01838',
    description:
      'one-hidden-layer ReLU network from logits: critical points by binary search, weights from gradient jumps, output layer by least squares',
    requires: { output: ['logits', 'probs'] },
    // Default budget: about 40 neurons' worth of gradient pairs plus the line searches.
    minQueries: (info) => 80 * (inputSize(info) + 1) + 20_000,
    extract: (client, opts) => runReluAttack(client, opts, settings, 'relu-jagielski'),
  };
}

export const reluJagielski = createReluJagielski();

export const reluJagielskiEntry = extractorEntry('relu-network', reluExtractorOptions, (o) => createReluJagielski(o));
