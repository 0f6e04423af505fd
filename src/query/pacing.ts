/**
 * @file withPacing: client-side rate limits, so that an attack stays under a target's published
 * limits instead of discovering them through 429s. Each upstream request (retries included: this
 * layer sits below retry) is given a start time no earlier than 1/requestsPerSecond after the
 * previous request's start, and no earlier than n x 60/rowsPerMinute seconds after the previous
 * request's start for that request's n rows. Slots are reserved in call order, before waiting, so
 * concurrent callers share one schedule; the schedule is a pure function of the clock.
 */
import { HeistError } from '../core/errors.js';
import type { RateLimit } from '../core/rate.js';

export { type RateLimit, parseRate } from '../core/rate.js';
import type { Prediction } from '../core/prediction.js';
import { type Tensor, rowCount } from '../core/tensor.js';
import type { Clock } from '../core/types.js';
import type { Oracle, QueryOptions } from '../oracle/types.js';

export interface PacedOracle extends Oracle {
  /** Milliseconds spent waiting for a slot so far. */
  readonly waitedMs: number;
}

export function withPacing(inner: Oracle, limit: RateLimit, clock: Clock): PacedOracle {
  for (const [k, v] of Object.entries(limit)) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0))
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `rate: ${k} must be a positive number, got ${v}`);
  }
  const requestGap = limit.requestsPerSecond ? 1000 / limit.requestsPerSecond : 0;
  const rowGap = limit.rowsPerMinute ? 60_000 / limit.rowsPerMinute : 0;
  let next = Number.NEGATIVE_INFINITY;
  let waitedMs = 0;
  return {
    info: inner.info,
    ...(inner.maxBatch !== undefined ? { maxBatch: inner.maxBatch } : {}),
    get waitedMs() {
      return waitedMs;
    },
    async query(x: Tensor, opts: QueryOptions = {}): Promise<Prediction> {
      const now = clock.now();
      const start = Math.max(now, next);
      next = start + Math.max(requestGap, rowCount(x) * rowGap);
      if (start > now) {
        waitedMs += start - now;
        await clock.sleep(start - now);
      }
      opts.signal?.throwIfAborted();
      return inner.query(x, opts);
    },
    close: inner.close ? () => inner.close!() : undefined,
  };
}
