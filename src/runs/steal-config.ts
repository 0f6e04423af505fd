/**
 * @file The settings of one `heist steal` run, validated once (zod). The CLI maps flags onto this;
 * library users build it directly.
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { recipes } from '../recipes/index.js';
import { strategies } from '../strategies/index.js';
import { MAX_ENSEMBLE_MEMBERS, surrogates } from '../surrogates/index.js';
import { trainEngines } from '../backends/train-engines.js';
import { targetSettingsFields } from './target-settings.js';
import { registryName } from './registry-name.js';

export const stealConfigSchema = z
  .object({
    target: z.string().min(1),
    budget: z.number().int().positive(),
    /** A published attack's preset (default `heist`); every part given here overrides its part. */
    recipe: registryName(recipes).optional(),
    /** Options of the recipe, validated by its own schema. */
    recipeOptions: z.record(z.string(), z.unknown()).optional(),
    strategy: registryName(strategies).optional(),
    /** Options of the strategy, validated by its own schema when the plan is built. */
    strategyOptions: z.record(z.string(), z.unknown()).optional(),
    pool: z.string().min(1).optional(),
    eval: z.string().min(1).optional(),
    arch: registryName(surrogates).optional(),
    hidden: z.array(z.number().int().positive()).optional(),
    /** Substitutes per fit, their logits averaged (surrogates/ensemble.ts); default 1. */
    ensemble: z.number().int().min(1).max(MAX_ENSEMBLE_MEMBERS).optional(),
    /** Training engine; default HEIST_TRAIN_ENGINE, else onnxruntime. */
    engine: registryName(trainEngines).optional(),
    labels: z.enum(['soft', 'hard']).optional(),
    targetFidelity: z.number().gt(0).max(1).optional(),
    /** Each round trains the previous round's substitute on instead of a fresh one. */
    warmStart: z.boolean().optional(),
    checkpoints: z.array(z.number().int().positive()).optional(),
    /** Round schedule (attacks/schedule.ts: standard | fixed:N | doubling:N | rounds:K); not with checkpoints. */
    schedule: z.string().min(1).optional(),
    epochs: z.number().int().positive().optional(),
    batchSize: z.number().int().positive().optional(),
    learningRate: z.number().positive().optional(),
    shiftAugment: z.number().int().min(0).max(8).optional(),
    temperature: z.number().gt(0).max(100).optional(),
    labelSmoothing: z.number().min(0).lt(1).optional(),
    seed: z.number().int().nonnegative().default(0),
    concurrency: z.number().int().positive().max(64).default(4),
    pricePerQuery: z.number().nonnegative().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    ...targetSettingsFields,
    resume: z.boolean().default(false),
    out: z.string().min(1),
  })
  .strict();

export type StealConfig = z.output<typeof stealConfigSchema>;
export type StealConfigInput = z.input<typeof stealConfigSchema>;

export function parseStealConfig(input: unknown): StealConfig {
  const res = stealConfigSchema.safeParse(input);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `invalid steal settings at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      {
        details: res.error.issues,
      },
    );
  }
  return res.data;
}
