/**
 * @file The query client's vocabulary. The client (client.ts) is a stack of Oracle decorators,
 * one job per file: cache -> budget -> transcript -> concurrency -> retry -> the target.
 */
import type { Prediction } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import type { Clock, Logger } from '../core/types.js';
import type { Oracle, QueryOptions, QueryPurpose } from '../oracle/types.js';
import type { RateLimit } from '../core/rate.js';

/** Rows a run may buy. A number is the attack budget. Probe rows count against the attack budget
 * unless `probe` is given. Eval rows have their own budget (default 0: eval needs an explicit budget). */
export type Budget = number | { readonly attack: number; readonly eval?: number; readonly probe?: number };

export interface RetryOptions {
  /** Extra attempts after the first (default 4). */
  readonly retries: number;
  /** Backoff before retry i is in [d/2, d), d = min(maxDelayMs, baseDelayMs * 2^i) (default 250). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A 429 asking to wait longer than this fails at once instead (default 300000). */
  readonly maxRetryAfterMs?: number;
}

export interface QueryClientOptions {
  readonly budget: Budget;
  /** JSONL file of every paid row (see transcript.ts). */
  readonly transcriptPath?: string;
  /** Load transcriptPath: its rows pre-fill the cache and count as spent. */
  readonly resume?: boolean;
  /** Without resume, replace an existing transcript instead of failing with HEIST_ERR_RESUME. */
  readonly overwrite?: boolean;
  /** fsync the transcript after each upstream call (default true). */
  readonly fsync?: boolean;
  /** Upstream calls in flight at once, over all callers (default 4). */
  readonly concurrency?: number;
  /** Rows per upstream call (default 256; never more than the target's Oracle.maxBatch). */
  readonly maxCallRows?: number;
  readonly retry?: Partial<RetryOptions>;
  /** Client-side rate limit on upstream requests (pacing.ts); default the target's own (Oracle.rate). */
  readonly rate?: RateLimit;
  readonly clock?: Clock;
  /** Jitter source (default createRng(0)). */
  readonly rng?: Rng;
  readonly log?: Logger;
}

export interface QueryClient extends Oracle {
  /** Rows paid for, all purposes (including those loaded from a resumed transcript). */
  readonly used: number;
  /** Rows answered from the cache (free), including repeats within one call. */
  readonly cached: number;
  /** Attack rows still allowed (size calls with this). */
  readonly remaining: number;
  readonly spentByPurpose: Readonly<Record<QueryPurpose, number>>;
  remainingFor(purpose: QueryPurpose): number;
  close(): Promise<void>;
}

/**
 * Internal contract between the splitter (concurrency.ts) and the layers above it: called once per
 * completed upstream call, with the call's rows (offset into the x that layer passed down) and answers,
 * before the caller sees anything. Sinks run innermost first: transcript, then budget, then cache.
 */
export type RowsSink = (offset: number, x: Tensor, answer: Prediction) => void;

export interface LayerQueryOptions extends QueryOptions {
  readonly onRows?: RowsSink;
}
