/**
 * @file withConcurrency, the splitter: cuts a call into upstream calls of at most maxCallRows rows
 * and runs them with at most `concurrency` in flight over ALL callers of this layer (one shared
 * semaphore). Each completed upstream call is reported to the layers above (RowsSink) before the
 * caller gets anything. After a failure no new upstream call starts; those in flight finish (and are
 * reported, so nothing paid is lost), then the first error is thrown.
 */
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { type Tensor, rowCount, sliceRows } from '../core/tensor.js';
import { concatPredictions, emptyPrediction } from '../oracle/merge.js';
import type { Oracle } from '../oracle/types.js';
import type { LayerQueryOptions } from './types.js';

export interface ConcurrencyOptions {
  readonly concurrency: number;
  readonly maxCallRows: number;
}

export interface ConcurrencyOracle extends Oracle {
  readonly inFlight: number;
  /** Most upstream calls ever in flight at once. */
  readonly peakInFlight: number;
}

export function withConcurrency(inner: Oracle, opts: ConcurrencyOptions): ConcurrencyOracle {
  const { concurrency, maxCallRows } = opts;
  for (const [k, v] of Object.entries(opts)) {
    if (!Number.isInteger(v) || v < 1)
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `${k} must be a positive integer, got ${v}`);
  }
  let inFlight = 0;
  let peak = 0;
  const queue: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (inFlight < concurrency) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      return Promise.resolve();
    }
    return new Promise((resolve) => queue.push(resolve));
  };
  const release = (): void => {
    const next = queue.shift();
    if (next)
      next(); // the slot passes straight to the next waiter
    else inFlight--;
  };

  return {
    info: inner.info,
    get inFlight() {
      return inFlight;
    },
    get peakInFlight() {
      return peak;
    },
    async query(x: Tensor, o: LayerQueryOptions = {}): Promise<Prediction> {
      const n = rowCount(x);
      if (n === 0) return emptyPrediction(inner.info);
      const lower = { purpose: o.purpose, signal: o.signal };
      const starts: number[] = [];
      for (let s = 0; s < n; s += maxCallRows) starts.push(s);
      const results: Prediction[] = new Array(starts.length);
      let failure: { error: unknown } | undefined;
      await Promise.all(
        starts.map(async (start, i) => {
          await acquire();
          try {
            if (failure) return;
            o.signal?.throwIfAborted();
            const xs = starts.length === 1 ? x : sliceRows(x, start, start + maxCallRows);
            const answer = await inner.query(xs, lower);
            results[i] = answer;
            o.onRows?.(start, xs, answer);
          } catch (error) {
            failure ??= { error };
          } finally {
            release();
          }
        }),
      );
      if (failure) throw failure.error;
      return concatPredictions(results, inner.info.classes);
    },
  };
}
