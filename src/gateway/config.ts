/**
 * @file Gateway configuration: a zod schema, validated once by buildGateway. Models arrive as
 * Predictors (loading files is the CLI's job), each with an optional defense Pipeline.
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Predictor } from '../core/prediction.js';
import type { Clock } from '../core/types.js';
import type { Pipeline } from '../defenses/pipeline.js';
import type { AuditStore } from '../store/types.js';
import type { LimitStore } from '../store/limits/types.js';
import type { KeyRing } from './keys.js';

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

const objectWith = <T>(what: string, methods: readonly string[]) =>
  z.custom<T>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    { message: `${what} must have ${methods.join(', ')}` },
  );

export const servedModelSchema = z.strictObject({
  name: z.string().regex(MODEL_NAME, 'model name must match [A-Za-z0-9][A-Za-z0-9._-]* (at most 100 characters)'),
  predictor: predictorSchema,
  pipeline: pipelineSchema.optional(),
  /** Inputs outside the model's declared domain: refused (400 HEIST_ERR_OUT_OF_DOMAIN), or clipped and flagged. */
  inputDomain: z.enum(['reject', 'clip']).default('reject'),
});

const limitWindows = z.strictObject({
  second: z.number().int().min(1).optional(),
  minute: z.number().int().min(1).optional(),
  day: z.number().int().min(1).optional(),
});
export const limitTableSchema = z.strictObject({ requests: limitWindows.optional(), rows: limitWindows.optional() });
export const tierSchema = z.strictObject({ perKey: limitTableSchema.optional(), shared: limitTableSchema.optional() });
export const failModeSchema = z.enum(['closed', 'open']);

export const accessSchema = z.strictObject({
  keys: objectWith<KeyRing>('keys', ['check', 'put', 'revoke']),
  tiers: z.record(
    z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'tier names are letters, digits, _ and - (at most 40)'),
    tierSchema,
  ),
  anonymousTier: z.string().optional(),
  adminKeySha256: z
    .custom<Buffer>((v) => Buffer.isBuffer(v) && v.length === 32, 'adminKeySha256 must be a 32-byte SHA-256')
    .optional(),
  limiter: z
    .strictObject({
      store: objectWith<LimitStore>('limiter.store', ['consume', 'close']),
      failMode: failModeSchema.default('closed'),
    })
    .optional(),
  /** Where admin routes write key changes (the key file); unset: changes live in memory only. */
  keyFile: z.string().optional(),
});

export const auditSchema = z.strictObject({
  store: objectWith<AuditStore>('audit.store', ['append', 'verify', 'close']),
  failMode: failModeSchema.default('closed'),
  /** Keep each input row (default) or only its hash. */
  inputs: z.boolean().default(true),
});

/** Defaults of the gateway's size and time limits (heist profile reports them too). */
export const DEFAULT_TIMEOUTS = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 } as const;
export const DEFAULT_MAX_CONNECTIONS = 4096;
export const DEFAULT_MAX_JSON_DEPTH = 8;

export const timeoutsSchema = z.strictObject({
  /** Whole request headers must arrive within this (slowloris). */
  headersMs: z.number().int().min(100).max(600_000).default(DEFAULT_TIMEOUTS.headersMs),
  /** The whole request, body included, must arrive within this. */
  requestMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_TIMEOUTS.requestMs),
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: z.number().int().min(100).max(600_000).default(DEFAULT_TIMEOUTS.keepAliveMs),
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
    /** Keys, tiers, limits and the admin key; default: anyone may ask, identified by IP, unlimited. */
    access: accessSchema.optional(),
    /** The audit log; default: none. */
    audit: auditSchema.optional(),
    timeouts: timeoutsSchema.default(DEFAULT_TIMEOUTS),
    /** GET /metrics: behind the admin key (default; absent without one), open to all, or off. */
    metrics: z.enum(['admin', 'public', 'off']).default('admin'),
    /** Most open connections; more are closed at once (bounds memory under held connections). */
    maxConnections: z.number().int().min(1).max(1_000_000).default(DEFAULT_MAX_CONNECTIONS),
    /** Most request-body bytes buffered at once over all connections; beyond it new bodies get 503. */
    maxBufferedBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(256 * 1024 * 1024),
    /** Nesting depth a JSON body may reach (refused while scanning, before parsing). */
    maxJsonDepth: z.number().int().min(2).max(64).default(DEFAULT_MAX_JSON_DEPTH),
    /** Where log lines go (default stdout); errors are always logged, requests only with `logger`. */
    logStream: z
      .custom<NodeJS.WritableStream>(
        (v) => typeof v === 'object' && v !== null && typeof (v as NodeJS.WritableStream).write === 'function',
      )
      .optional(),
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
    const tiers = cfg.access ? Object.keys(cfg.access.tiers) : [];
    if (cfg.access?.anonymousTier !== undefined && !tiers.includes(cfg.access.anonymousTier))
      ctx.addIssue({
        code: 'custom',
        path: ['access', 'anonymousTier'],
        message: `anonymous tier "${cfg.access.anonymousTier}" is not among the tiers (${tiers.join(', ') || 'none'})`,
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
