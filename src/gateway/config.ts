/**
 * @file Gateway configuration: a zod schema, validated once by buildGateway. Models arrive as
 * Predictors (loading files is the CLI's job), each with an optional defense Pipeline.
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Predictor } from '../core/prediction.js';
import type { Clock } from '../core/types.js';
import type { Pipeline } from '../defenses/pipeline.js';

export const DEFAULT_MAX_BATCH = 1024;
export const DEFAULT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/** Served names are URL path segments: letters, digits, '.', '_', '-'. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

const isPositiveInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;

const predictorSchema = z.custom<Predictor>(
  (v) => {
    if (typeof v !== 'object' || v === null) return false;
    const p = v as Partial<Predictor>;
    const info = p.info;
    return (
      typeof p.predict === 'function' &&
      typeof info === 'object' &&
      info !== null &&
      Array.isArray(info.inputShape) &&
      info.inputShape.length > 0 &&
      info.inputShape.every(isPositiveInt) &&
      isPositiveInt(info.classes) &&
      (info.classes as number) >= 2 &&
      typeof info.output === 'string' &&
      ['probs', 'logits', 'topk', 'label'].includes(info.output) &&
      typeof info.domain === 'object' &&
      info.domain !== null &&
      Number.isFinite(info.domain.min) &&
      Number.isFinite(info.domain.max) &&
      info.domain.min < info.domain.max &&
      (info.classNames === undefined || info.classNames.length === info.classes)
    );
  },
  {
    message:
      'predictor must be a Predictor with valid info (inputShape of positive integers, classes >= 2, output, domain with min < max)',
  },
);

const pipelineSchema = z.custom<Pipeline>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Pipeline).run === 'function' &&
    Array.isArray((v as Pipeline).stages),
  { message: 'pipeline must come from createPipeline()' },
);

const clockSchema = z.custom<Clock>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
  { message: 'clock must have now()' },
);

export const servedModelSchema = z.strictObject({
  name: z.string().regex(MODEL_NAME, 'model name must match [A-Za-z0-9][A-Za-z0-9._-]* (at most 100 characters)'),
  predictor: predictorSchema,
  pipeline: pipelineSchema.optional(),
});

export const gatewayConfigSchema = z
  .strictObject({
    models: z.array(servedModelSchema),
    /** Most rows one request may carry. */
    maxBatch: z.number().int().min(1).max(1_000_000).default(DEFAULT_MAX_BATCH),
    /** Largest request body in bytes; larger ones get 413 HEIST_ERR_BODY_TOO_LARGE. */
    bodyLimitBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(DEFAULT_BODY_LIMIT_BYTES),
    /** fastify's pino logger on or off (default off). */
    logger: z.boolean().default(false),
    /** Take the client IP from X-Forwarded-For (only behind a trusted proxy). */
    trustProxy: z.boolean().default(false),
    /** Time source for QueryContext.at (tests inject one). */
    clock: clockSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.models.forEach((m, i) => {
      if (seen.has(m.name))
        ctx.addIssue({ code: 'custom', path: ['models', i, 'name'], message: `duplicate model name "${m.name}"` });
      seen.add(m.name);
      if (m.pipeline?.requiresScores && m.predictor.info.output === 'label') {
        ctx.addIssue({
          code: 'custom',
          path: ['models', i, 'pipeline'],
          message: `model "${m.name}" serves labels only but a defense needs scores`,
        });
      }
    });
  });

/** What callers pass (defaults optional). */
export type GatewayConfig = z.input<typeof gatewayConfigSchema>;
/** After validation and defaults. */
export type ResolvedGatewayConfig = z.output<typeof gatewayConfigSchema>;
export type ServedModelConfig = z.input<typeof servedModelSchema>;

/** Validates and fills defaults; throws HEIST_ERR_BAD_CONFIG with zod's issues as details. */
export function parseGatewayConfig(config: unknown): ResolvedGatewayConfig {
  const r = gatewayConfigSchema.safeParse(config);
  if (!r.success) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `invalid gateway config: ${z.prettifyError(r.error)}`, {
      details: r.error.issues,
    });
  }
  return r.data;
}
