/** @file The text-extractor registry: methods for language models behind /v1/completions (`heist extract --method`). */
import { Registry } from '../../../core/registry.js';
import { llmFinalLayerEntry } from './llm-final-layer.js';
import type { TextExtractor, TextExtractorEntry } from './types.js';

export const textExtractors = new Registry<undefined, TextExtractor, TextExtractorEntry>('text extraction method', [
  llmFinalLayerEntry,
]);

export {
  DEFAULT_PRICE_PER_1K_TOKENS,
  LLM_PAPER,
  queriesNeeded,
  randomPrompts,
  stealFinalLayer,
} from './llm-final-layer.js';
export { alignProjection, analyseLogits, largestGap, relativeToReference } from './spectrum.js';
export { biasGroups, fullLogits, topKRelativeLogits } from './logits.js';
export type { LlmAttackOptions, LlmAttackResult, LogitSource, TextExtractor, TextExtractorEntry } from './types.js';
