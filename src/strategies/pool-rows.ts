/**
 * @file The part of an attacker's pool not proposed yet, in a seeded order: the common ground of the
 * pool-based strategies. The seeded order is the random draw (the first round, before there is a
 * substitute to ask) and breaks every tie of a scored selection, so selections stay deterministic.
 */
import type { Dataset } from '../core/dataset.js';
import { HeistError } from '../core/errors.js';
import { type ModelInfo, type Predictor, inputSize } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import { type Tensor, concatRows, rowCount, rowSize, takeRows } from '../core/tensor.js';
import type { StrategyDeps } from './types.js';

/** Rows per call when a strategy asks the substitute about the whole pool (bounds the memory used). */
const PREDICT_CHUNK = 2048;

export class PoolRows {
  /** Pool indices not proposed yet, in the seeded order. */
  private order: number[];

  constructor(
    readonly pool: Dataset,
    rng: Rng,
  ) {
    this.order = rng.shuffle(Array.from({ length: rowCount(pool.x) }, (_, i) => i));
  }

  get available(): number {
    return this.order.length;
  }

  /** Throws before anything is proposed when the pool's rows do not fit the target. */
  check(info: ModelInfo): void {
    if (rowSize(this.pool.x) !== inputSize(info))
      throw new HeistError(
        'HEIST_ERR_REQUIREMENTS',
        `pool "${this.pool.name}" rows have ${rowSize(this.pool.x)} values but the target takes ${inputSize(info)}`,
      );
  }

  /** Calls back with the pool index of every remaining row and its position, in the seeded order. */
  forEachRemaining(f: (index: number, position: number) => void): void {
    this.order.forEach(f);
  }

  /** Remaining rows [start, end) of the seeded order, shaped as the target's input. */
  rows(start: number, end: number, info: ModelInfo): Tensor {
    const t = takeRows(this.pool.x, this.order.slice(start, end));
    return { data: t.data, shape: [rowCount(t), ...info.inputShape] };
  }

  /**
   * The substitute's probabilities for every remaining row (row k of the result is position k);
   * undefined when the substitute gives labels only.
   */
  probabilities(substitute: Predictor, info: ModelInfo): Promise<Tensor | undefined> {
    return chunkedProbabilities(substitute, this.order.length, (start, end) => this.rows(start, end, info));
  }

  /**
   * Removes the remaining rows at these positions (in the seeded order of the remaining rows)
   * and returns them shaped as the target's input.
   */
  take(positions: readonly number[], info: ModelInfo): Tensor {
    const indices = positions.map((p) => this.order[p]);
    const gone = new Set(positions);
    this.order = this.order.filter((_, p) => !gone.has(p));
    const rows = takeRows(this.pool.x, indices);
    return { data: rows.data, shape: [indices.length, ...info.inputShape] };
  }

  /** The next `count` rows of the seeded order: a random draw without replacement. */
  takeFirst(count: number, info: ModelInfo): Tensor {
    return this.take(
      Array.from({ length: Math.min(count, this.order.length) }, (_, p) => p),
      info,
    );
  }
}

/**
 * Positions of the `count` highest scores; equal scores keep the seeded order (position order), so
 * the choice is a pure function of the scores.
 */
export function topPositions(scores: Float64Array, count: number): number[] {
  const positions = Array.from({ length: scores.length }, (_, p) => p);
  positions.sort((a, b) => scores[b] - scores[a] || a - b);
  return positions.slice(0, Math.min(count, positions.length));
}

/** The seeded order a pool-based strategy draws its pool in (StrategyDeps.poolOrder). */
export const poolOrderOf = (deps: StrategyDeps): Rng => deps.poolOrder ?? deps.rng;

/** The pool a pool-based strategy needs, or HEIST_ERR_BAD_CONFIG naming the flag that gives it. */
export function needsPool(name: string, deps: StrategyDeps): Dataset {
  if (!deps.pool)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `strategy "${name}" needs attacker data: pass --pool <scenario|dataset>`,
    );
  return deps.pool;
}

/**
 * The substitute's probabilities for n rows, asked PREDICT_CHUNK rows at a time (`rowsAt(start, end)`
 * gives them); undefined when the substitute gives labels only or there are no rows.
 */
export async function chunkedProbabilities(
  substitute: Predictor,
  n: number,
  rowsAt: (start: number, end: number) => Tensor,
): Promise<Tensor | undefined> {
  const parts: Tensor[] = [];
  for (let start = 0; start < n; start += PREDICT_CHUNK) {
    const p = await substitute.predict(rowsAt(start, Math.min(n, start + PREDICT_CHUNK)));
    if (!p.scores) return undefined;
    parts.push(p.scores);
  }
  return parts.length > 0 ? concatRows(parts) : undefined;
}
