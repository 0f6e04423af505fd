/**
 * @file The standard scenarios of docs/scenarios.md: data, split sizes, victim architecture, budgets and
 * the reference fidelity figures (IBM ART 1.20.1 on PyTorch CPU, measured on this kind of machine).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Dataset, subset } from '../core/dataset.js';
import { HeistError } from '../core/errors.js';
import { dataDir, modelsDir } from './paths.js';
import { type DatasetName, loadDataset } from './registry.js';
import { type Split, type SplitSizes, stratifiedSplit } from './splits.js';

export interface Scenario {
  readonly name: string;
  readonly dataset: DatasetName;
  /** The stratified cut of `dataset`; a part named in `wholeParts` replaces its cut (then unused). */
  readonly sizes: SplitSizes;
  /**
   * Parts that are a whole other data set rather than a cut of `dataset`: fmnist-cnn evaluates on
   * Fashion-MNIST's test set, and mnist-cnn-xpool's attacker pool is another domain's images.
   */
  readonly wholeParts?: Readonly<Partial<Record<'pool' | 'eval', DatasetName>>>;
  /** The victim file models/<victimModel>.onnx; default the scenario's own name. */
  readonly victimModel?: string;
  /** A surrogate registry key (surrogates/index.ts), checked when the victim is trained. */
  readonly victimArch: string;
  readonly hidden?: readonly number[];
  readonly budgets: readonly number[];
  /** Reference fidelity by attack and budget, from docs/scenarios.md. */
  readonly reference: Readonly<Record<string, Readonly<Record<number, number>>>>;
}

export const scenarios: Readonly<Record<string, Scenario>> = {
  'digits-mlp': {
    name: 'digits-mlp',
    dataset: 'digits',
    sizes: { victim: 898, pool: 449, eval: 450 },
    victimArch: 'mlp',
    hidden: [32],
    budgets: [50, 100, 250, 449],
    reference: { 'knockoff-random-probs': { 100: 0.74, 250: 0.86 } },
  },
  'mnist-cnn': {
    name: 'mnist-cnn',
    dataset: 'mnist',
    sizes: { victim: 5000, pool: 3000, eval: 2000 },
    victimArch: 'cnn',
    budgets: [100, 250, 500, 1000, 2000, 3000],
    reference: {
      'knockoff-random-probs': { 100: 0.78, 250: 0.89, 500: 0.93, 1000: 0.96, 2000: 0.98 },
      'copycat-labels': { 100: 0.77, 250: 0.87, 500: 0.93, 1000: 0.96, 2000: 0.97 },
    },
  },
  'fmnist-cnn': {
    name: 'fmnist-cnn',
    dataset: 'fashion-mnist-train',
    sizes: { victim: 30000, pool: 6000, eval: 0 },
    wholeParts: { eval: 'fashion-mnist' },
    victimArch: 'cnn',
    budgets: [100, 250, 500, 1000, 2000, 6000],
    reference: {
      'knockoff-random-probs': { 100: 0.74, 250: 0.79, 500: 0.81, 1000: 0.86, 2000: 0.89 },
      'copycat-labels': { 100: 0.72, 250: 0.79, 500: 0.8, 1000: 0.85, 2000: 0.88 },
    },
  },
  'mnist-cnn-xpool': {
    name: 'mnist-cnn-xpool',
    // The same cut as mnist-cnn, so the victim (models/mnist-cnn.onnx) and the evaluation rows are
    // exactly mnist-cnn's; only the pool comes from another domain, as Knockoff Nets assumes.
    dataset: 'mnist',
    sizes: { victim: 5000, pool: 3000, eval: 2000 },
    wholeParts: { pool: 'fashion-mnist' },
    victimModel: 'mnist-cnn',
    victimArch: 'cnn',
    budgets: [100, 250, 500, 1000, 2000, 5000, 10000],
    reference: {},
  },
  'breast-cancer-logreg': {
    name: 'breast-cancer-logreg',
    dataset: 'breast-cancer',
    sizes: { victim: 285, pool: 142, eval: 142 },
    victimArch: 'logreg',
    budgets: [31, 100],
    reference: {},
  },
};

export function getScenario(name: string): Scenario {
  const s = scenarios[name];
  if (!s)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`,
    );
  return s;
}

export type Part = 'victim' | 'pool' | 'eval';
export const parts: readonly Part[] = ['victim', 'pool', 'eval'];

/** The data set each part's indices point into. */
export function partDatasets(s: Scenario): Readonly<Record<Part, DatasetName>> {
  return { victim: s.dataset, pool: s.wholeParts?.pool ?? s.dataset, eval: s.wholeParts?.eval ?? s.dataset };
}

export function computeSplit(s: Scenario): Split {
  const cut = stratifiedSplit(loadDataset(s.dataset).y!, s.sizes, 0);
  const whole = (name: DatasetName): number[] => Array.from({ length: loadDataset(name).x.shape[0] }, (_, i) => i);
  return {
    victim: cut.victim,
    pool: s.wholeParts?.pool ? whole(s.wholeParts.pool) : cut.pool,
    eval: s.wholeParts?.eval ? whole(s.wholeParts.eval) : cut.eval,
  };
}

/** models/<victim>.onnx: the victim every attack on this scenario queries. */
export function victimModelPath(s: Scenario): string {
  return join(modelsDir, `${s.victimModel ?? s.name}.onnx`);
}

export function splitPath(name: string): string {
  return join(dataDir, 'splits', `${name}.json`);
}

/** The committed split file (data/splits/<scenario>.json). */
export function readSplit(name: string): Split {
  try {
    const parsed = JSON.parse(readFileSync(splitPath(name), 'utf8')) as {
      victim: number[];
      pool: number[];
      eval: number[];
    };
    return { victim: parsed.victim, pool: parsed.pool, eval: parsed.eval };
  } catch (e) {
    throw new HeistError(
      'HEIST_ERR_BAD_DATA',
      `cannot read split ${splitPath(name)}: ${(e as Error).message}; run npm run make-splits`,
    );
  }
}

export interface ScenarioData {
  readonly scenario: Scenario;
  readonly victimTrain: Dataset;
  readonly pool: Dataset;
  readonly evaluation: Dataset;
}

export function loadScenarioData(name: string): ScenarioData {
  const scenario = getScenario(name);
  const split = readSplit(name);
  const from = partDatasets(scenario);
  const part = (p: Part): Dataset => {
    const ds = loadDataset(from[p]);
    return subset(ds, split[p], `${ds.name}/${p}`);
  };
  return { scenario, victimTrain: part('victim'), pool: part('pool'), evaluation: part('eval') };
}
