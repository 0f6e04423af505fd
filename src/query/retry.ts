/**
 * @file withRetry: re-sends a failed upstream call with exponential backoff and jitter from the
 * seeded rng. Retries a 429 (waiting at least its Retry-After), a network failure or a 5xx (errors
 * with details.retryable); never any other 4xx, a malformed answer or a budget refusal.
 */
import { HeistError, isHeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import type { Clock, Logger } from '../core/types.js';
import type { Oracle, QueryOptions } from '../oracle/types.js';
import type { RetryOptions } from './types.js';

export const defaultRetry: Required<RetryOptions> = {
  retries: 4,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 300_000,
};

function detail(e: HeistError, key: string): unknown {
  return typeof e.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>)[key] : undefined;
}

export function isRetryable(e: unknown): boolean {
  if (isHeistError(e, 'HEIST_ERR_RATE_LIMITED')) return true;
  return isHeistError(e, 'HEIST_ERR_UPSTREAM') && detail(e, 'retryable') === true;
}

/** The server's Retry-After in ms, when the error carries one. */
export function retryAfterMs(e: unknown): number | undefined {
  if (!isHeistError(e)) return undefined;
  const v = detail(e, 'retryAfterMs');
  return typeof v === 'number' && v >= 0 ? v : undefined;
}

/** The wait before retry number `attempt` (0-based): in [d/2, d), d = min(max, base * 2^attempt). */
export function backoffMs(attempt: number, o: RetryOptions, rng: Rng): number {
  const d = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** attempt);
  return d / 2 + rng.uniform(0, d / 2);
}

export interface RetryOracle extends Oracle {
  /** Retries made so far. */
  readonly retries: number;
}

export function withRetry(
  inner: Oracle,
  options: Partial<RetryOptions>,
  deps: { clock: Clock; rng: Rng; log?: Logger },
): RetryOracle {
  const o: Required<RetryOptions> = { ...defaultRetry, ...options };
  if (!Number.isInteger(o.retries) || o.retries < 0 || !(o.baseDelayMs >= 0) || !(o.maxDelayMs >= 0)) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `bad retry options ${JSON.stringify(options)}`);
  }
  let retries = 0;
  return {
    info: inner.info,
    get retries() {
      return retries;
    },
    async query(x: Tensor, opts: QueryOptions = {}): Promise<Prediction> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await inner.query(x, opts);
        } catch (e) {
          if (attempt >= o.retries || !isRetryable(e) || opts.signal?.aborted) throw e;
          const after = retryAfterMs(e);
          if (after !== undefined && after > o.maxRetryAfterMs) throw e;
          const wait = Math.max(after ?? 0, backoffMs(attempt, o, deps.rng));
          deps.log?.warn('retrying upstream call', {
            attempt: attempt + 1,
            waitMs: wait,
            code: (e as HeistError).code,
          });
          retries++;
          await deps.clock.sleep(wait);
        }
      }
    },
  };
}
