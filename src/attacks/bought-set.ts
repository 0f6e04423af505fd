/**
 * @file The append-only set of bought answers the substitute trains on: inputs, target labels and,
 * when the target returned them, probabilities.
 */
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { type Tensor, concatRows, rowCount } from '../core/tensor.js';
import type { TrainingSet } from '../surrogates/types.js';

export class BoughtSet {
  private xs: Tensor[] = [];
  private labels: Int32Array[] = [];
  private soft: Tensor[] = [];

  get size(): number {
    return this.labels.reduce((n, l) => n + l.length, 0);
  }

  add(x: Tensor, answer: Prediction, keepSoft: boolean): void {
    if (answer.labels.length !== rowCount(x)) {
      throw new HeistError('HEIST_ERR_UPSTREAM', `asked ${rowCount(x)} rows, got ${answer.labels.length} answers`);
    }
    if (keepSoft && !answer.scores)
      throw new HeistError('HEIST_ERR_REQUIREMENTS', 'the target stopped returning probabilities');
    this.xs.push(x);
    this.labels.push(answer.labels);
    if (keepSoft && answer.scores) this.soft.push(answer.scores);
  }

  toTrainingSet(): TrainingSet {
    const labels = new Int32Array(this.size);
    let off = 0;
    for (const l of this.labels) {
      labels.set(l, off);
      off += l.length;
    }
    return { x: concatRows(this.xs), labels, soft: this.soft.length > 0 ? concatRows(this.soft) : undefined };
  }
}
