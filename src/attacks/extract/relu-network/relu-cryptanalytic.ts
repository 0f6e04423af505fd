/**
 * @file 'relu-cryptanalytic': Carlini et al.'s extraction of ReLU networks with one or two hidden
 * layers, aimed at precision (parameters to ~2^-20 and better from float64 answers). Critical
 * points where the two outer slopes of a line segment meet (checked by one query), weights up to
 * scale from the jump of the local affine map on both sides, signs by moving along a direction
 * that changes only one neuron, then layer peeling: the recovered first layer turns the target
 * into a one-hidden-layer network of the activations, which is attacked the same way.
 * @see N. Carlini, M. Jagielski, I. Mironov, "Cryptanalytic Extraction of Neural Network Models", CRYPTO 2020, arXiv:2003.04884.
 */
import { inputSize } from '../../../core/prediction.js';
import { type Extractor, extractorEntry } from '../types.js';
import { type ReluAttackSettings, type ReluExtractorOptions, reluExtractorOptions, runReluAttack } from './attack.js';

export function createReluCryptanalytic(o: ReluExtractorOptions = {}): Extractor {
  const settings: ReluAttackSettings = {
    strategy: 'intersect',
    hidden: o.hidden,
    maxDepth: 2,
    timeLimitMs: o.timeLimitMs ?? 300_000,
    maxLines: o.maxLines ?? 64,
    patience: 8,
  };
  return {
    name: 'relu-cryptanalytic',
    paper:
      'Carlini, Jagielski, Mironov, "Cryptanalytic Extraction of Neural Network Models", CRYPTO 2020, arXiv:2003.04884',
    description:
      'one or two hidden ReLU layers from logits to high precision: critical points, weights up to scale, sign recovery, layer peeling',
    requires: { output: ['logits', 'probs'] },
    minQueries: (info) => 80 * (inputSize(info) + 1) + 40_000,
    extract: (client, opts) => runReluAttack(client, opts, settings, 'relu-cryptanalytic'),
  };
}

export const reluCryptanalytic = createReluCryptanalytic();

export const reluCryptanalyticEntry = extractorEntry('relu-network', reluExtractorOptions, (o) =>
  createReluCryptanalytic(o),
);
