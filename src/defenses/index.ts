/**
 * @file The defense registry: stage name -> entry (factory, option schema, phases). Add a stage: a
 * file here named after it exporting a DefenseEntry, and one line below; test/conformance/defenses
 * then tests it.
 */
import { Registry } from '../core/registry.js';
import { systemClock, silentLogger } from '../core/types.js';
import { gaussianNoiseEntry } from './gaussian-noise.js';
import { highConfidenceEntry } from './high-confidence.js';
import { labelOnlyEntry } from './label-only.js';
import { pradaEntry } from './prada.js';
import { reverseSigmoidEntry } from './reverse-sigmoid.js';
import { roundEntry } from './round.js';
import { topKEntry } from './top-k.js';
import type { Defense, DefenseDeps, DefenseEntry } from './types.js';

export const defenses = new Registry<DefenseDeps, Defense, DefenseEntry>('defense', [
  roundEntry,
  topKEntry,
  labelOnlyEntry,
  reverseSigmoidEntry,
  gaussianNoiseEntry,
  highConfidenceEntry,
  pradaEntry,
]);

/** One configured stage: a registry name and its options. */
export interface DefenseSpec {
  readonly name: string;
  readonly options?: unknown;
}

/** Builds the stages in order, validating each one's options (default deps: the system clock, no logging). */
export function createDefenses(
  specs: readonly DefenseSpec[],
  deps: DefenseDeps = { clock: systemClock, log: silentLogger },
): Defense[] {
  return specs.map((s) => defenses.create(s.name, s.options ?? {}, deps));
}

export { type DefendedPredictor, type DefendedPredictorOptions, defendPredictor } from './defended-predictor.js';
export {
  checkOrder,
  createContext,
  createPipeline,
  emptyPipeline,
  provisionalClient,
  type Pipeline,
} from './pipeline.js';
export { gaussianNoise, noisyRows, rowSeed } from './gaussian-noise.js';
export { highConfidence, highConfidenceRows } from './high-confidence.js';
export { labelOnly } from './label-only.js';
export { type PradaClientView, type PradaDefense, type PradaOptions, prada, pradaEntry } from './prada.js';
export { reverseSigmoid, reverseSigmoidRows } from './reverse-sigmoid.js';
export { round, roundScores } from './round.js';
export { topK, topKRows } from './top-k.js';
export * from './types.js';
