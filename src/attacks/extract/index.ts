/**
 * @file The exact-extraction registry: method name -> Extractor (the `--method` values of
 * `heist extract`), with the paper each one implements (`heist extract --list`).
 */
import { HeistError } from '../../core/errors.js';
import { equationSolving } from './equation-solving.js';
import { llmFinalLayer } from './llm-final-layer/index.js';
import { mlpEquationSolvingDefault } from './mlp-equation-solving.js';
import { retrainingAdaptive, retrainingUniform } from './retraining.js';
import { reluCryptanalytic, reluJagielski } from './relu-network/index.js';
import { roundedEquationSolving } from './rounded-equation-solving.js';
import { treePathFinding } from './tree-path-finding.js';
import { treeTopDown } from './tree-top-down.js';
import type { Extractor } from './types.js';

export const extractors = {
  'equation-solving': equationSolving,
  'llm-final-layer': llmFinalLayer,
  'equation-solving-rounded': roundedEquationSolving,
  'retraining-uniform': retrainingUniform,
  'retraining-adaptive': retrainingAdaptive,
  'mlp-equation-solving': mlpEquationSolvingDefault,
  'tree-path-finding': treePathFinding,
  'tree-top-down': treeTopDown,
  'relu-jagielski': reluJagielski,
  'relu-cryptanalytic': reluCryptanalytic,
} as const satisfies Readonly<Record<string, Extractor>>;

export type ExtractorName = keyof typeof extractors;

export function isExtractorName(name: string): name is ExtractorName {
  return Object.hasOwn(extractors, name);
}

export function getExtractor(name: string): Extractor {
  if (!isExtractorName(name)) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `unknown extraction method "${name}" (known: ${Object.keys(extractors).join(', ')})`);
  }
  return extractors[name];
}

export interface ExtractorListing {
  readonly name: string;
  readonly paper: string;
  readonly description: string;
  readonly needs: string;
}

/** Every method with its citation, for `heist extract --list`. */
export function listExtractors(): ExtractorListing[] {
  return Object.values(extractors).map((e: Extractor) => ({ name: e.name, paper: e.paper, description: e.description, needs: e.requires.output.join(' | ') }));
}

export { checkExtractor } from './types.js';
export type { Extractor, ExtractOptions, ExtractResult, LinearWeights, QueryDesign } from './types.js';
