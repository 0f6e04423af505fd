/**
 * @file Trainable substitutes (surrogates). A Surrogate is a Predictor (free to call) that can be
 * fitted on bought answers and exported as a NetworkSpec (then ONNX). Add one: a file here named
 * after its arch exporting a SurrogateEntry, plus one line in index.ts; test/conformance/surrogates
 * then tests it. Training code lives in src/backends/ (the only place that imports tfjs).
 */
import type { DifferentiablePredictor, InputDomain } from '../core/prediction.js';
import type { RegistryEntry } from '../core/registry.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import type { NetworkSpec } from '../models/network-spec.js';

/** A surrogate registry key (`surrogates.names()`): logreg, mlp, cnn, ... */
export type Arch = string;

export interface ArchOptions {
  /** Shape of one input row: [features] or [h, w, c] (cnn needs [h, w, c]). */
  readonly inputShape: readonly number[];
  readonly classes: number;
  /** Hidden widths for mlp (default [32] for small inputs, [256, 128] for large); ignored otherwise. */
  readonly hidden?: readonly number[];
  /** An ensemble of this many independently initialised networks of the arch (ensemble.ts); default 1. */
  readonly members?: number;
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
  /**
   * 'soft' only: train towards the target's probabilities at this temperature, p^(1/T) renormalised
   * (the softmax of the target's logits divided by T: Hinton et al., "Distilling the Knowledge in a
   * Neural Network", arXiv:1503.02531). T > 1 lifts the small probabilities, which say which wrong
   * classes a row resembles; 1 or absent: the probabilities as bought. No row is softened past a
   * top class SOFTEN_MIN_TOP_RATIO times its runner-up (create.ts).
   */
  readonly temperature?: number;
  /**
   * 'hard' only: train towards (1 - epsilon) one-hot + epsilon / classes instead of the bare label
   * (label smoothing: Szegedy et al., "Rethinking the Inception Architecture for Computer Vision",
   * arXiv:1512.00567). In [0, 1); 0 or absent: the labels as bought.
   */
  readonly labelSmoothing?: number;
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

export interface Surrogate extends DifferentiablePredictor {
  readonly arch: Arch;
  fit(data: TrainingSet, options: FitOptions): Promise<FitReport>;
  /** Current weights as a framework-free spec (ends in softmax). */
  toSpec(): NetworkSpec;
  dispose(): void;
}

/** How a steal fits a substitute of this arch, unless the plan overrides it. */
export interface FitSettings {
  /** Minimum passes over the bought data. */
  readonly epochs: number;
  /** Minimum optimiser steps per fit: small sets get more epochs so the substitute converges. */
  readonly minSteps: number;
  /** Cap on passes, so that tiny sets do not train for ever. */
  readonly maxEpochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly schedule?: 'constant' | 'cosine';
  /** Random pixel shifts of image rows during training (0 or absent = off). */
  readonly shiftAugment?: number;
  /** The soft targets' temperature (FitOptions.temperature; absent = 1). */
  readonly temperature?: number;
  /** The hard labels' smoothing (FitOptions.labelSmoothing; absent = 0). */
  readonly labelSmoothing?: number;
}

/** What every surrogate factory is handed: the target's shape, labels for ModelInfo, and the init Rng. */
export interface SurrogateDeps {
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly name?: string;
  readonly domain?: InputDomain;
  /** Initial weights (and later re-initialisations) are drawn from it. */
  readonly rng: Rng;
}

export interface SurrogateEntry<O = unknown> extends RegistryEntry<O, SurrogateDeps, Promise<Surrogate>> {
  /** Default fit settings for a steal (tuned on the standard scenarios, bench/curve.ts). */
  readonly fit: FitSettings;
  /** Epochs of `heist train` for a victim of this arch (fixed, so shipped victims rebuild identically). */
  readonly victimEpochs: number;
  /** Why inputs of this shape do not suit the arch (checked before any paid query), else undefined. */
  unsuitable(inputShape: readonly number[]): string | undefined;
  /** An input shape the conformance suite trains it on. */
  readonly exampleShape: readonly number[];
}
