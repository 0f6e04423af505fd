/**
 * @file A steal plan: strategy + substitute + fit settings + schedule, checked against what the
 * target offers BEFORE the first paid query (ART's estimator requirements, as a plain function).
 */
import { HeistError } from '../core/errors.js';
import { type ModelInfo, inputSize } from '../core/prediction.js';
import type { QueryStrategy } from '../strategies/types.js';
import type { Arch, ArchOptions } from '../surrogates/types.js';

export interface FitSettings {
  /** Minimum passes over the bought data. */
  readonly epochs: number;
  /** Minimum optimiser steps per fit: small sets get more epochs so the substitute converges. */
  readonly minSteps: number;
  /** Cap on passes, so that tiny sets do not train for ever. */
  readonly maxEpochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly schedule?: 'constant' | 'cosine';
  /** Random pixel shifts of image rows during training (0 or absent = off). */
  readonly shiftAugment?: number;
}

export interface StealPlan {
  readonly strategy: QueryStrategy;
  readonly arch: Arch;
  readonly archOptions: ArchOptions;
  /** 'soft': distil the target's probabilities; 'hard': train on its labels only. */
  readonly labels: 'soft' | 'hard';
  readonly fit: FitSettings;
  /** Cumulative paid-query counts after which the substitute is refitted and evaluated; the last is the budget. */
  readonly checkpoints: readonly number[];
  readonly targetFidelity?: number;
}

/** Standard budgets of SCENARIOS.md: the default schedule fits at each one below the budget. */
const ladder = [50, 100, 250, 500, 1000, 2000, 3000, 5000, 10000, 20000, 50000, 100000];

export function defaultCheckpoints(budget: number): number[] {
  return [...ladder.filter((b) => b < budget), budget];
}

/** Epochs for a fit on n rows: at least `epochs`, enough for `minSteps` steps, at most `maxEpochs`. */
export function epochsFor(fit: FitSettings, n: number): number {
  const stepsPerEpoch = Math.max(1, Math.ceil(n / fit.batchSize));
  return Math.min(fit.maxEpochs, Math.max(fit.epochs, Math.ceil(fit.minSteps / stepsPerEpoch)));
}

export function checkPlan(plan: StealPlan, info: ModelInfo): void {
  if (plan.labels === 'soft' && info.output === 'label') {
    throw new HeistError('HEIST_ERR_REQUIREMENTS', `soft-label distillation needs probabilities, but target "${info.name}" returns labels only; use --labels hard`);
  }
  if (plan.archOptions.classes !== info.classes) {
    throw new HeistError('HEIST_ERR_REQUIREMENTS', `substitute has ${plan.archOptions.classes} classes, target has ${info.classes}`);
  }
  if (plan.arch === 'cnn' && info.inputShape.length !== 3) {
    throw new HeistError('HEIST_ERR_REQUIREMENTS', `--arch cnn needs image inputs [h, w, c]; target "${info.name}" takes [${info.inputShape.join(', ')}]`);
  }
  if (inputSize(plan.archOptions) !== inputSize(info)) {
    throw new HeistError('HEIST_ERR_REQUIREMENTS', `substitute input size ${inputSize(plan.archOptions)} differs from the target's ${inputSize(info)}`);
  }
  const c = plan.checkpoints;
  if (c.length === 0 || c.some((v, i) => !Number.isInteger(v) || v <= 0 || (i > 0 && v <= c[i - 1]))) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `checkpoints must be increasing positive integers: [${c.join(', ')}]`);
  }
  if (plan.strategy.available !== undefined && plan.strategy.available < c[c.length - 1]) {
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `the pool holds ${plan.strategy.available} rows, fewer than the budget of ${c[c.length - 1]}`,
    );
  }
  if (plan.targetFidelity !== undefined && !(plan.targetFidelity > 0 && plan.targetFidelity <= 1)) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `target fidelity must be in (0, 1], got ${plan.targetFidelity}`);
  }
}
