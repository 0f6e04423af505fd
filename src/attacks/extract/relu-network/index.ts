/**
 * @file Functionally equivalent extraction of ReLU networks from logits: 'relu-jagielski' (one
 * hidden layer, Jagielski et al. 2020) and 'relu-cryptanalytic' (one or two hidden layers, Carlini
 * et al. 2020). The extracted model is a float64 dense ReLU network (models/dense-relu.ts) whose
 * toSpec() gives a NetworkSpec for networkToOnnx.
 * @see M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot, "High Accuracy and High Fidelity Extraction of Neural Networks", USENIX Security 2020, arXiv:1909.01838.
 * @see N. Carlini, M. Jagielski, I. Mironov, "Cryptanalytic Extraction of Neural Network Models", CRYPTO 2020, arXiv:2003.04884.
 */
import type { DenseReluNet } from '../../../models/dense-relu.js';
import type { NetworkSpec } from '../../../models/network-spec.js';
import type { ExtractResult } from '../types.js';

export { createReluJagielski, reluJagielski } from './relu-jagielski.js';
export type { ReluExtractorOptions } from './attack.js';
export { createReluCryptanalytic, reluCryptanalytic } from './relu-cryptanalytic.js';
export { alignNetworks, type Alignment } from './align.js';

/** The extracted network of a ReLU extractor's result (undefined for other extractors). */
export function extractedNetwork(r: ExtractResult): { net: DenseReluNet; spec: NetworkSpec } | undefined {
  const m = r.model as Partial<{ net: DenseReluNet; toSpec(): NetworkSpec }>;
  return m.net && m.toSpec ? { net: m.net, spec: m.toSpec() } : undefined;
}
