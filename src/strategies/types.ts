/**
 * @file Query strategies: which inputs to buy next. A strategy proposes rows; it never buys them
 * (only attacks/steal.ts calls the query client). Add one: a file named after it here exporting a
 * StrategyEntry, and one line in index.ts; test/conformance/strategies then tests it. Strategies must
 * be deterministic given the Rng, the substitute and the bought rows they are handed (each a pure
 * function of the seed and the target's answers), so that a resumed run re-proposes exactly the rows
 * it bought before the kill.
 */
import type { Dataset } from '../core/dataset.js';
import type { ModelInfo, Predictor } from '../core/prediction.js';
import type { RegistryEntry } from '../core/registry.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';

/** Everything bought so far, with the target's answers (the substitute's training set). */
export interface BoughtRows {
  readonly x: Tensor;
  readonly labels: Int32Array;
  /** [n, classes] target probabilities; absent for label-only targets. */
  readonly soft?: Tensor;
}

export interface ProposeContext {
  readonly info: ModelInfo;
  readonly round: number;
  /** Rows bought so far. */
  readonly bought: number;
  readonly rng: Rng;
  /**
   * The substitute fitted at the end of the previous round: free to query as often as a strategy
   * likes (it is the attacker's own model, never the target). Absent in the first round.
   */
  readonly substitute?: Predictor;
  /** The rows bought before this round and the target's answers; absent in the first round. */
  readonly boughtRows?: BoughtRows;
  /**
   * The rows of this strategy's previous proposal and the target's answers to them (in this round,
   * or the last of the previous round): how a strategy with `batchRows` learns between its batches.
   */
  readonly latest?: BoughtRows;
}

export interface QueryStrategy {
  readonly name: string;
  /** Up to `count` rows of shape [n, ...info.inputShape]; fewer (or zero) when the strategy has run dry. */
  propose(ctx: ProposeContext, count: number): Promise<Tensor>;
  /** Rows still available (pool strategies); undefined when unlimited. */
  readonly available?: number;
  /**
   * Set by strategies that learn from each batch they buy (data-free): the steal loop then asks for a
   * round's rows in calls of at most this many, buying each before the next call (which sees its
   * answers as `latest`). Undefined: one call per round.
   */
  readonly batchRows?: number;
}

/** What every strategy factory is handed. */
export interface StrategyDeps {
  /** The attacker's natural data (`--pool`), when one was given. */
  readonly pool?: Dataset;
  /** For choices made once, at construction (e.g. a pool's order); per-round draws use ProposeContext.rng. */
  readonly rng: Rng;
  /**
   * The order every pool-based strategy draws its pool in (defaults to `rng`): the same for all of
   * them in a run (the `pool` strategy's own), so their random rounds buy the same rows and a
   * comparison between strategies is not drowned by which seed set each happened to draw.
   */
  readonly poolOrder?: Rng;
}

export type StrategyEntry<O = unknown> = RegistryEntry<O, StrategyDeps, QueryStrategy>;
