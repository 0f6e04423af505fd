/**
 * @file Trainable substitutes (surrogates). A Surrogate is a Predictor (free to call) that can be
 * fitted on bought answers and exported as a NetworkSpec (then ONNX). Add one: a file here named
 * after its arch, plus one line in index.ts. Training code lives in src/backends/ (the only place
 * that imports tfjs).
 */
import type { Predictor } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import type { NetworkSpec } from '../models/network-spec.js';

export type Arch = 'logreg' | 'mlp' | 'cnn';

export interface ArchOptions {
  /** Shape of one input row: [features] or [h, w, c] (cnn needs [h, w, c]). */
  readonly inputShape: readonly number[];
  readonly classes: number;
  /** Hidden widths for mlp (default [32] for small inputs, [256, 128] for large); ignored otherwise. */
  readonly hidden?: readonly number[];
}

/** Bought data: inputs, top-1 labels, and probabilities when the target returned them. */
export interface TrainingSet {
  readonly x: Tensor;
  readonly labels: Int32Array;
  /** [n, classes] target probabilities (soft labels); absent for label-only targets. */
  readonly soft?: Tensor;
}

export interface FitOptions {
  /** 'soft': cross-entropy against the target's probabilities (distillation); 'hard': against labels. */
  readonly loss: 'soft' | 'hard';
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Learning-rate schedule over the fit: constant (default) or cosine annealing to 0. */
  readonly schedule?: 'constant' | 'cosine';
  /** Random translations of up to this many pixels per mini-batch image (image inputs only; 0 = off). */
  readonly shiftAugment?: number;
  /** Re-initialise weights before fitting (otherwise continue from the current weights). */
  readonly reinitialize?: boolean;
  readonly rng: Rng;
  /** Called after each epoch (for progress display). */
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

export interface FitReport {
  readonly epochs: number;
  readonly samplesSeen: number;
  readonly finalLoss: number;
  readonly wallMs: number;
}

export interface Surrogate extends Predictor {
  readonly arch: Arch;
  fit(data: TrainingSet, options: FitOptions): Promise<FitReport>;
  /** Current weights as a framework-free spec (ends in softmax). */
  toSpec(): NetworkSpec;
  dispose(): void;
}
