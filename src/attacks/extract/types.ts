/**
 * @file Exact extraction: an Extractor recovers a target's parameters (not an approximation of its
 * behaviour) from a small number of paid answers. Add one: a file named after the method in its
 * family's folder exporting an ExtractorEntry (see extractorEntry), plus one line in index.ts;
 * test/conformance/extractors then tests it. What a method needs from the target is declared in
 * `requires` and checked before any paid query (checkExtractor).
 */
import { HeistError } from '../../core/errors.js';
import type { OptionsSchema, RegistryEntry } from '../../core/registry.js';
import { type ModelInfo, type OutputKind, type Predictor, inputSize } from '../../core/prediction.js';
import type { Rng } from '../../core/rng.js';
import type { NetworkSpec } from '../../models/network-spec.js';
import type { Oracle } from '../../oracle/types.js';

/** How the extractor picks its query rows. */
export type QueryDesign = 'uniform' | 'basis';

export interface ExtractOptions {
  /** Paid attack rows to spend; default: the method's minimum for this target. */
  readonly budget?: number;
  readonly rng: Rng;
  /** 'uniform' (default): random rows in the declared domain; 'basis': the domain's corner 0 and its d edges. */
  readonly design?: QueryDesign;
}

/** Recovered softmax-regression parameters, class 0 fixed to zero (softmax is shift-invariant). */
export interface LinearWeights {
  readonly d: number;
  readonly k: number;
  /** [d, k] row-major, like models/linear.ts. */
  readonly weights: Float64Array;
  readonly bias: Float64Array;
  /** The class whose weights and bias are fixed to zero. */
  readonly referenceClass: number;
}

export interface ExtractResult {
  /** The extracted model: free to query. */
  readonly model: Predictor;
  /** Paid rows the extractor asked for (cache hits included). */
  readonly queriesUsed: number;
  readonly notes: readonly string[];
  readonly weights?: LinearWeights;
  /** The extracted network when it is not a softmax regression (exported as ONNX by `heist extract`). */
  readonly spec?: NetworkSpec;
  /** Numeric facts for the run record (e.g. error bounds); names are metric names. */
  readonly diagnostics?: Readonly<Record<string, number>>;
  /** The extracted model as a file to write beside run.json (e.g. a reconstructed tree as heist.tree/v1 JSON). */
  readonly modelFile?: { readonly name: string; readonly contents: string };
}

export interface ExtractorRequirements {
  /** The target must answer with one of these output kinds. */
  readonly output: readonly OutputKind[];
}

export interface Extractor {
  readonly name: string;
  /** One-line citation, shown by `heist extract --list` and in reports. */
  readonly paper: string;
  readonly description: string;
  readonly requires: ExtractorRequirements;
  /** The fewest paid rows the method needs for this target (also the default budget). */
  minQueries(info: ModelInfo): number;
  /** The budget when none is given, for methods whose query count is not known in advance (default: minQueries). */
  defaultBudget?(info: ModelInfo): number;
  extract(client: Oracle, opts: ExtractOptions): Promise<ExtractResult>;
}

/**
 * Checks the method against what the target declares, BEFORE any paid query. Returns the attack
 * budget to use (the given one, else the method's minimum). HEIST_ERR_REQUIREMENTS when the target
 * cannot serve the method, HEIST_ERR_BAD_CONFIG when the budget is below the method's minimum.
 */
export function checkExtractor(ex: Extractor, info: ModelInfo, budget?: number): number {
  if (!ex.requires.output.includes(info.output)) {
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `${ex.name} needs a target that answers ${ex.requires.output.join(' or ')}, but "${info.name}" answers ${info.output}`,
    );
  }
  if (inputSize(info) < 1 || info.classes < 2) {
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `${ex.name} needs a classifier with inputs; "${info.name}" declares ${inputSize(info)} inputs, ${info.classes} classes`,
    );
  }
  if (!(info.domain.max > info.domain.min)) {
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `${ex.name} needs a non-empty input domain; "${info.name}" declares [${info.domain.min}, ${info.domain.max}]`,
    );
  }
  const min = ex.minQueries(info);
  if (budget !== undefined && budget < min) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `${ex.name} needs at least ${min} queries for "${info.name}"; --budget ${budget} is too small`,
    );
  }
  return budget ?? ex.defaultBudget?.(info) ?? min;
}

/** The kind of model a method recovers: also its folder under extract/. */
export type ExtractorFamily = 'linear' | 'tree' | 'relu-network';

export interface ExtractorEntry<O = unknown> extends RegistryEntry<O, undefined, Extractor> {
  readonly paper: string;
  readonly family: ExtractorFamily;
  /** What the method needs from the target, known without building it (for `--list` and checks). */
  readonly requires: ExtractorRequirements;
}

/** An entry whose name, summary, paper and requirements are those of the extractor built with default options. */
export function extractorEntry<O>(
  family: ExtractorFamily,
  options: OptionsSchema<O>,
  make: (options: O) => Extractor,
): ExtractorEntry<O> {
  const defaults = options.safeParse({});
  if (!defaults.success) throw new HeistError('HEIST_ERR_INTERNAL', 'an extractor option schema must accept {}');
  const ex = make(defaults.data);
  return {
    name: ex.name,
    summary: ex.description,
    paper: ex.paper,
    family,
    requires: ex.requires,
    options,
    create: (o) => make(o),
  };
}
