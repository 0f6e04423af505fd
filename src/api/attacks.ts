/**
 * @file `heist/attacks`: the red team's API. Whole runs (what the CLI calls), the pieces of a steal
 * (plan, loop, evaluation), and the registries a new strategy, substitute or extractor joins.
 */

// Whole runs: settings in, a heist.run/v1 record (and run.json, report.html) out.
export { runSteal, type StealRunHooks } from '../runs/steal-run.js';
export { type StealConfig, type StealConfigInput, parseStealConfig } from '../runs/steal-config.js';
export { runExtract, type ExtractConfig, type ExtractConfigInput, type ExtractRunHooks } from '../runs/extract-run.js';
export { runExtractLlm, type LlmExtractConfigInput } from '../runs/extract-llm-run.js';
export { runTrain, type TrainOptions, type TrainResult } from '../runs/train-run.js';

// The steal loop and its plan (the plan owns the budget; planSteal checks it before any paid query).
export {
  planSteal,
  defaultCheckpoints,
  epochsFor,
  type PlanRequest,
  type StealPlan,
  type ReferenceAttack,
} from '../attacks/plan.js';
export { steal, type RoundResult, type StealDeps, type StealResult } from '../attacks/steal.js';
export {
  buyEvaluationLabels,
  evaluateSubstitute,
  type EvaluationResult,
  type EvaluationSet,
} from '../eval/evaluate.js';
export { accuracy, agreement, fidelity } from '../eval/metrics.js';

// Query strategies: which rows to buy.
export {
  strategies,
  poolStrategy,
  randomStrategy,
  type ProposeContext,
  type QueryStrategy,
  type StrategyDeps,
  type StrategyEntry,
} from '../strategies/index.js';

// Substitutes.
export {
  surrogates,
  createSurrogate,
  surrogateFromSpec,
  type Surrogate,
  type SurrogateEntry,
  type FitOptions,
  type FitSettings,
  type TrainingSet,
} from '../surrogates/index.js';

// Exact extraction (row targets) and extraction from language models (text targets).
export {
  extractors,
  extractorEntry,
  getExtractor,
  listExtractors,
  checkExtractor,
  type Extractor,
  type ExtractorEntry,
  type ExtractOptions,
  type ExtractResult,
} from '../attacks/extract/index.js';
export {
  textExtractors,
  stealFinalLayer,
  type TextExtractor,
  type TextExtractorEntry,
  type LlmAttackResult,
} from '../attacks/extract/llm/index.js';
