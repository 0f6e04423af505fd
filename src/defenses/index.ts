/**
 * @file The defense registry: stage name -> entry (factory, option schema, phases). Add a stage: a
 * file here named after it exporting a DefenseEntry, and one line below; test/conformance/defenses
 * then tests it.
 */
import { Registry } from '../core/registry.js';
import { systemClock, silentLogger } from '../core/types.js';
import { adaptiveMisinformationEntry } from './adaptive-misinformation.js';
import { boundaryEntry } from './boundary.js';
import { coverageEntry } from './coverage.js';
import { gaussianNoiseEntry } from './gaussian-noise.js';
import { highConfidenceEntry } from './high-confidence.js';
import { labelOnlyEntry } from './label-only.js';
import { madArgmaxEntry, madEntry } from './mad.js';
import { pradaEntry } from './prada.js';
import { reverseSigmoidEntry } from './reverse-sigmoid.js';
import { roundEntry } from './round.js';
import { topKEntry } from './top-k.js';
import { watermarkEntry } from './watermark.js';
import type { Defense, DefenseDeps, DefenseEntry, DefenseSpec } from './types.js';

export type { DefenseSpec } from './types.js';

export const defenses = new Registry<DefenseDeps, Defense, DefenseEntry>('defense', [
  roundEntry,
  topKEntry,
  labelOnlyEntry,
  reverseSigmoidEntry,
  gaussianNoiseEntry,
  highConfidenceEntry,
  pradaEntry,
  coverageEntry,
  boundaryEntry,
  madEntry,
  madArgmaxEntry,
  adaptiveMisinformationEntry,
  watermarkEntry,
]);

/** Whether the stage `spec` names may change a served top-1 label, with its options. */
export function stageChangesLabels(spec: DefenseSpec): boolean {
  const entry = defenses.get(spec.name);
  return entry.changesLabelsWith
    ? entry.changesLabelsWith(defenses.parseOptions(entry, spec.options ?? {}))
    : entry.changesLabels;
}

/** `deps` with createStage, so that a detector can build its degrade stage from the registry. */
export function withStageFactory(deps: DefenseDeps): DefenseDeps {
  const full: DefenseDeps = {
    ...deps,
    createStage: (spec) => {
      const entry = defenses.get(spec.name);
      return {
        stage: defenses.create(spec.name, spec.options ?? {}, full),
        phases: entry.phases,
        changesLabels: stageChangesLabels(spec),
      };
    },
  };
  return full;
}

/** Builds the stages in order, validating each one's options (default deps: the system clock, no logging). */
export function createDefenses(
  specs: readonly DefenseSpec[],
  deps: DefenseDeps = { clock: systemClock, log: silentLogger },
): Defense[] {
  const full = withStageFactory(deps);
  return specs.map((s) => defenses.create(s.name, s.options ?? {}, full));
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
export {
  type MadOptions,
  type MadProxy,
  type MadRowResult,
  type MadVariant,
  createMadProxy,
  mad,
  madGram,
  madObjective,
  madRow,
  madRows,
} from './mad.js';
export { type PradaClientView, type PradaDefense, type PradaOptions, prada, pradaEntry } from './prada.js';
export { reverseSigmoid, reverseSigmoidRows } from './reverse-sigmoid.js';
export { round, roundScores } from './round.js';
export { topK, topKRows } from './top-k.js';
export * from './types.js';
export {
  type AdaptiveMisinformationOptions,
  adaptiveMisinformation,
  adaptiveMisinformationEntry,
  adaptiveMisinformationRows,
  misinformationWeight,
  misinformationWeights,
} from './adaptive-misinformation.js';
export { maxProbabilityRows, maxSoftmaxProbability } from './ood-score.js';
export {
  type WatermarkMode,
  type WatermarkOptions,
  watermark,
  watermarkEntry,
  watermarkKey,
  watermarkMark,
  watermarkModes,
} from './watermark.js';
export {
  type BoundaryClientView,
  type BoundaryDefense,
  type BoundaryOptions,
  boundary,
  boundaryEntry,
  marginOf,
} from './boundary.js';
export {
  type CoverageClientView,
  type CoverageDefense,
  type CoverageGroupView,
  type CoverageGrouping,
  type CoverageOptions,
  coverage,
  coverageEntry,
  coverageGroupings,
} from './coverage.js';
