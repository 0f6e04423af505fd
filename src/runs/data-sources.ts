/**
 * @file Resolves --pool and --eval names: a scenario name means that scenario's attacker pool
 * (or evaluation split); a data-set name means the whole data set.
 */
import type { Dataset } from '../core/dataset.js';
import { HeistError } from '../core/errors.js';
import { datasetNames, loadDataset } from '../datasets/registry.js';
import { loadScenarioData, scenarios } from '../datasets/scenarios.js';

export function resolvePool(name: string): Dataset {
  if (name in scenarios) return loadScenarioData(name).pool;
  if ((datasetNames as string[]).includes(name)) return loadDataset(name);
  throw new HeistError(
    'HEIST_ERR_BAD_CONFIG',
    `unknown pool "${name}": give a scenario (${Object.keys(scenarios).join(', ')}) or a data set (${datasetNames.join(', ')})`,
  );
}

export function resolveEval(name: string): Dataset {
  if (name in scenarios) return loadScenarioData(name).evaluation;
  if ((datasetNames as string[]).includes(name)) return loadDataset(name);
  throw new HeistError(
    'HEIST_ERR_BAD_CONFIG',
    `unknown evaluation set "${name}": give a scenario (${Object.keys(scenarios).join(', ')}) or a data set (${datasetNames.join(', ')})`,
  );
}
