/**
 * @file The standard scenarios of docs/scenarios.md: data, split sizes, victim architecture, budgets and
 * the reference fidelity figures (IBM ART 1.20.1 on PyTorch CPU, measured on this kind of machine).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Dataset, subset } from '../core/dataset.js';
import { HeistError } from '../core/errors.js';
import { dataDir } from './paths.js';
import { type DatasetName, loadDataset } from './registry.js';
import { type Split, type SplitSizes, stratifiedSplit } from './splits.js';

export interface Scenario {
  readonly name: string;
  readonly dataset: DatasetName;
  readonly sizes: SplitSizes;
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

export function computeSplit(s: Scenario): Split {
  const ds = loadDataset(s.dataset);
  return stratifiedSplit(ds.y!, s.sizes, 0);
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
  const ds = loadDataset(scenario.dataset);
  const split = readSplit(name);
  return {
    scenario,
    victimTrain: subset(ds, split.victim, `${ds.name}/victim`),
    pool: subset(ds, split.pool, `${ds.name}/pool`),
    evaluation: subset(ds, split.eval, `${ds.name}/eval`),
  };
}
