/**
 * @file The exact-extraction registry: method name -> entry (the `--method` values of `heist
 * extract`), with the paper each one implements (`heist extract --list`). Methods live in their
 * family's folder (linear/, tree/, relu-network/) over the shared solvers/; methods for language
 * models behind /v1/completions have their own registry in llm/.
 */
import { Registry } from '../../core/registry.js';
import { equationSolvingEntry } from './linear/equation-solving.js';
import { equationSolvingRoundedEntry } from './linear/equation-solving-rounded.js';
import { retrainingAdaptiveEntry } from './linear/retraining-adaptive.js';
import { retrainingUniformEntry } from './linear/retraining-uniform.js';
import { mlpEquationSolvingEntry } from './relu-network/mlp-equation-solving.js';
import { reluCryptanalyticEntry } from './relu-network/relu-cryptanalytic.js';
import { reluJagielskiEntry } from './relu-network/relu-jagielski.js';
import { treePathFindingEntry } from './tree/tree-path-finding.js';
import { treeTopDownEntry } from './tree/tree-top-down.js';
import type { Extractor, ExtractorEntry } from './types.js';

export const extractors = new Registry<undefined, Extractor, ExtractorEntry>('extraction method', [
  equationSolvingEntry,
  equationSolvingRoundedEntry,
  retrainingUniformEntry,
  retrainingAdaptiveEntry,
  mlpEquationSolvingEntry,
  treePathFindingEntry,
  treeTopDownEntry,
  reluJagielskiEntry,
  reluCryptanalyticEntry,
]);

/** The extractor of that name built with `options` (validated by its schema); unknown names are HEIST_ERR_BAD_CONFIG. */
export function getExtractor(name: string, options: unknown = {}): Extractor {
  return extractors.create(name, options, undefined);
}

export interface ExtractorListing {
  readonly name: string;
  readonly paper: string;
  readonly description: string;
  readonly needs: string;
}

/** Every row method with its citation, for `heist extract --list`. */
export function listExtractors(): ExtractorListing[] {
  return extractors
    .entries()
    .map((e) => ({ name: e.name, paper: e.paper, description: e.summary, needs: e.requires.output.join(' | ') }));
}

export { checkExtractor, extractorEntry } from './types.js';
export type {
  Extractor,
  ExtractorEntry,
  ExtractorFamily,
  ExtractOptions,
  ExtractResult,
  LinearWeights,
  QueryDesign,
} from './types.js';
export { designRows } from './solvers/design-rows.js';
