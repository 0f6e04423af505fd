/**
 * @file Query strategies: which inputs to buy next. A strategy proposes rows; it never buys them
 * (only attacks/steal.ts calls the query client). Add one: a file named after it here, one line in
 * index.ts, and a test. Strategies must be deterministic given the Rng they are handed, so that a
 * resumed run re-proposes exactly the rows it bought before the kill.
 */
import type { ModelInfo } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';

export interface ProposeContext {
  readonly info: ModelInfo;
  readonly round: number;
  /** Rows bought so far. */
  readonly bought: number;
  readonly rng: Rng;
}

export interface QueryStrategy {
  readonly name: string;
  /** Up to `count` rows of shape [n, ...info.inputShape]; fewer (or zero) when the strategy has run dry. */
  propose(ctx: ProposeContext, count: number): Promise<Tensor>;
  /** Rows still available (pool strategies); undefined when unlimited. */
  readonly available?: number;
}
