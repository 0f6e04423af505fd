/**
 * @file Held-out evaluation of a substitute. The target's labels on the evaluation inputs are bought
 * once, through the query client with purpose 'eval' (so they are counted apart from the attack
 * budget and land in the transcript), then every round compares the free substitute against them.
 */
import type { Dataset } from '../core/dataset.js';
import type { Predictor } from '../core/prediction.js';
import type { Oracle } from '../oracle/types.js';
import { accuracy, fidelity } from './metrics.js';

export interface EvaluationSet {
  readonly data: Dataset;
  /** The target's top-1 labels on data.x. */
  readonly targetLabels: Int32Array;
}

export async function buyEvaluationLabels(client: Oracle, data: Dataset): Promise<EvaluationSet> {
  const answer = await client.query(data.x, { purpose: 'eval' });
  return { data, targetLabels: answer.labels };
}

export interface EvaluationResult {
  readonly fidelity: number;
  readonly accuracy?: number;
  /** Accuracy of the target itself on the labelled evaluation data (free: computed from bought labels). */
  readonly targetAccuracy?: number;
}

export async function evaluateSubstitute(substitute: Predictor, evaluation: EvaluationSet): Promise<EvaluationResult> {
  const pred = await substitute.predict(evaluation.data.x);
  const y = evaluation.data.y;
  return {
    fidelity: fidelity(evaluation.targetLabels, pred.labels),
    accuracy: y ? accuracy(y, pred.labels) : undefined,
    targetAccuracy: y ? accuracy(y, evaluation.targetLabels) : undefined,
  };
}
