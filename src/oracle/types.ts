/**
 * @file How an attacker reaches a target. An Oracle is the only thing that costs money:
 * `query` spends budget, `Predictor.predict` is free. Implementations: http.ts (any wire format),
 * local.ts (a model file or any Predictor). The query client (src/query/) wraps an Oracle in
 * decorators that add budget, cache, transcript, concurrency and retry.
 */
import type { ModelInfo, Prediction } from '../core/prediction.js';
import type { RateLimit } from '../core/rate.js';
import type { Tensor } from '../core/tensor.js';

/** Why rows are bought: attack rows count against the attack budget, eval rows are reported apart. */
export type QueryPurpose = 'attack' | 'eval' | 'probe';

export interface QueryOptions {
  readonly purpose?: QueryPurpose;
  readonly signal?: AbortSignal;
}

export interface Oracle {
  readonly info: ModelInfo;
  /** Buys answers for every row of x (shape [n, ...info.inputShape] or [n, inputSize]). */
  query(x: Tensor, options?: QueryOptions): Promise<Prediction>;
  /**
   * The most rows one upstream request may carry (an API's batch cap). The query client's splitter
   * cuts calls to it, so that each request is retried, counted and written to the transcript on its
   * own: a failure at request 21 of a call loses nothing of requests 1-20 and re-sends none of them.
   */
  readonly maxBatch?: number;
  /** The rate limit the target publishes; the query client keeps to it unless given its own. */
  readonly rate?: RateLimit;
  /** The price per 1,000 rows the target publishes, for the cost line of a report. */
  readonly pricePer1k?: number;
  close?(): Promise<void>;
}
