/**
 * @file Text targets: extractors that buy from an OpenAI-style /v1/completions API rather than a
 * row oracle, so they have their own small registry (llm/index.ts). Add one: a file here named
 * after the method exporting a TextExtractorEntry, and one line in index.ts.
 */
import type { RegistryEntry } from '../../../core/registry.js';
import type { Rng } from '../../../core/rng.js';
import type { CompletionsClient } from '../../../query/completions-client.js';
import type { SpectrumResult } from './spectrum.js';

export interface TextExtractor {
  readonly name: string;
  readonly paper: string;
  /** Paid requests the method needs with its options (the default budget). */
  queriesNeeded(): number;
  extract(client: CompletionsClient, rng: Rng): Promise<LlmAttackResult>;
}

export type TextExtractorEntry<O = unknown> = RegistryEntry<O, undefined, TextExtractor>;

export type LogitSource = 'full' | 'topk';

export interface LlmAttackOptions {
  readonly model: string;
  /** Number of prompts n (must exceed the hidden size). */
  readonly prompts: number;
  readonly source: LogitSource;
  readonly rng: Rng;
  /** Length of each random printable-ASCII prompt (default 16). */
  readonly promptLength?: number;
  /** top-k: reference token (default 32, the space), k (default 5), bias (default 100). */
  readonly reference?: number;
  readonly k?: number;
  readonly bias?: number;
  readonly pricePer1kTokens?: number;
}

export interface LlmAttackResult extends SpectrumResult {
  readonly source: LogitSource;
  readonly prompts: readonly string[];
  readonly reference?: number;
  readonly queries: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly pricePer1kTokens: number;
  readonly costUsd: number;
}
