/**
 * @file Rate-limit counters: fixed windows aligned to the epoch (second, minute, UTC day), counted
 * in rows or in requests. A LimitStore checks and increments several counters atomically: either
 * every counter has room for its cost and all are incremented, or none is. The in-process store
 * serves one gateway; the Redis store lets any number of replicas enforce one limit.
 */
import type { RegistryEntry } from '../../core/registry.js';

export interface CounterCheck {
  /** Counter name, e.g. "key:ab12:rows:minute" (the store adds the window start). */
  readonly key: string;
  /** Window length in ms (1000, 60000, 86400000); windows start at multiples of it since the epoch. */
  readonly windowMs: number;
  readonly limit: number;
  /** What this request adds (its rows, or 1). */
  readonly cost: number;
}

export type LimitDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** Index into the checks of the first counter without room. */
      readonly violated: number;
      /** Ms until that counter's window ends. */
      readonly retryAfterMs: number;
    };

export interface LimitStore {
  /** The URL it was opened with, minus any password. */
  readonly url: string;
  /** Atomic check-and-increment of all counters at time `now` (epoch ms). Rejects with HEIST_ERR_LIMITS_UNAVAILABLE when the store cannot answer. */
  consume(checks: readonly CounterCheck[], now: number): Promise<LimitDecision>;
  close(): Promise<void>;
}

export interface LimitStoreOptions {
  /** The part of the URL after "scheme://" (may be empty for memory://). */
  readonly location: string;
  /** Most ms one consume may wait for the store (default 200). */
  readonly timeoutMs?: number;
}

export type LimitStoreEntry = RegistryEntry<LimitStoreOptions, undefined, LimitStore>;
