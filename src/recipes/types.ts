/**
 * @file Recipes: a published attack as one preset of a steal's parts (strategy, substitute, labels,
 * training settings, round schedule). `heist steal --recipe NAME` starts from a recipe; any flag
 * given explicitly overrides its part. Add one: a file named `<method>-<author>-<year>` here
 * exporting a RecipeEntry that cites its paper, and one line in index.ts; test/conformance/recipes
 * then plans it against a target.
 */
import type { RegistryEntry } from '../core/registry.js';
import type { Schedule } from '../attacks/schedule.js';

/** What a recipe sets; anything it leaves out falls to the policy defaults of attacks/plan.ts. */
export interface RecipeParts {
  readonly strategy?: string;
  readonly strategyOptions?: Readonly<Record<string, unknown>>;
  readonly arch?: string;
  /** Substitutes per fit, their logits averaged (surrogates/ensemble.ts). */
  readonly ensemble?: number;
  readonly labels?: 'soft' | 'hard';
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly shiftAugment?: number;
  /** The soft targets' temperature (FitOptions.temperature). */
  readonly temperature?: number;
  /** The hard labels' smoothing (FitOptions.labelSmoothing). */
  readonly labelSmoothing?: number;
  readonly schedule?: Schedule;
  /** Each round trains the previous round's substitute on. */
  readonly warmStart?: boolean;
}

export type RecipeEntry<O = unknown> = RegistryEntry<O, undefined, RecipeParts>;
