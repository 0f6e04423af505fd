/**
 * @file What a model answers, and what a model declares about itself.
 */
import { type Tensor, argmaxRows, rowCount } from './tensor.js';
import type { Awaitable } from './types.js';

/** probs: a probability vector per row; label: only the top-1 class; logits / topk: reserved for other wire formats. */
export type OutputKind = 'probs' | 'logits' | 'topk' | 'label';

export interface Prediction {
  readonly kind: OutputKind;
  /** Top-1 class per row; always present. */
  readonly labels: Int32Array;
  /** [n, classes]; absent when kind === 'label'. */
  readonly scores?: Tensor;
  /**
   * Per row, the identifier of the tree node that answered (a leaf, or the node where an incomplete
   * query stopped), as BigML-style APIs return it; absent for models without leaf identifiers.
   */
  readonly leafIds?: readonly string[];
}

/** What a client asked to receive: the model's own output kind, or top-1 labels only. */
export type RequestedOutput = 'model' | 'label';

/** The input domain the model declares: every input value lies in [min, max]. */
export interface InputDomain {
  readonly min: number;
  readonly max: number;
}

export interface ModelInfo {
  readonly name: string;
  /** Shape of one input row, e.g. [28, 28, 1] or [64]. Over the wire a row is flattened (row-major). */
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly classNames?: readonly string[];
  readonly output: OutputKind;
  readonly domain: InputDomain;
}

/** Anything that predicts for free: a local model, a substitute, an extracted model. */
export interface Predictor {
  readonly info: ModelInfo;
  predict(x: Tensor): Awaitable<Prediction>;
  /** True when NaN in an input row means "this feature is missing" and is answered, not refused (tree models). */
  readonly acceptsMissing?: boolean;
}

/**
 * A predictor that also gives the gradient of its cross-entropy with respect to its inputs: a
 * substitute (or any white-box model). What attacks crafted on a substitute need (FGSM, PGD,
 * Jacobian-based augmentation, DeepFool).
 */
export interface DifferentiablePredictor extends Predictor {
  /** Row i: d CE(p(x_i), targets_i) / d x_i (each row's own loss), shaped like x; targets [n, classes]. */
  inputGradients(x: Tensor, targets: Tensor): Promise<Tensor>;
}

export function isDifferentiable(p: Predictor | undefined): p is DifferentiablePredictor {
  return p !== undefined && typeof (p as Partial<DifferentiablePredictor>).inputGradients === 'function';
}

export function inputSize(info: Pick<ModelInfo, 'inputShape'>): number {
  return info.inputShape.reduce((a, b) => a * b, 1);
}

/**
 * A row shape read channels-last, as Heist's networks are: a channels-first single-channel shape
 * [1, h, w] (as PyTorch exports) has the same flat layout as [h, w, 1], so it is read as that; any
 * other shape is returned as it is.
 */
export function channelsLastShape(shape: readonly number[]): readonly number[] {
  return shape.length === 3 && shape[0] === 1 && shape[1] > 1 && shape[2] > 1 ? [shape[1], shape[2], 1] : shape;
}

export function probsPrediction(scores: Tensor): Prediction {
  return { kind: 'probs', labels: argmaxRows(scores), scores };
}

export function labelPrediction(labels: Int32Array): Prediction {
  return { kind: 'label', labels };
}

/** Drops the scores: what a label-only API would have answered. */
export function toLabelOnly(p: Prediction): Prediction {
  return p.leafIds ? { kind: 'label', labels: p.labels, leafIds: p.leafIds } : { kind: 'label', labels: p.labels };
}

export function predictionRows(p: Prediction): number {
  return p.scores ? rowCount(p.scores) : p.labels.length;
}
