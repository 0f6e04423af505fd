/**
 * @file Query strategies: which inputs to buy next. A strategy proposes rows; it never buys them
 * (only attacks/steal.ts calls the query client). Add one: a file named after it here exporting a
 * StrategyEntry, and one line in index.ts; test/conformance/strategies then tests it. Strategies must
 * be deterministic given the Rng they are handed, so that a resumed run re-proposes exactly the rows
 * it bought before the kill.
 */
import type { Dataset } from '../core/dataset.js';
import type { ModelInfo } from '../core/prediction.js';
import type { RegistryEntry } from '../core/registry.js';
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

/** What every strategy factory is handed. */
export interface StrategyDeps {
  /** The attacker's natural data (`--pool`), when one was given. */
  readonly pool?: Dataset;
  /** For choices made once, at construction (e.g. a pool's order); per-round draws use ProposeContext.rng. */
  readonly rng: Rng;
}

export type StrategyEntry<O = unknown> = RegistryEntry<O, StrategyDeps, QueryStrategy>;
