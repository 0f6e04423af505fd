/**
 * @file The gateway's request and response bodies as zod schemas, for the OpenAPI document
 * (openapi.ts). Request bodies are the decoders' own schemas (heist-v1's, completions-wire.ts,
 * chat-wire.ts); the response and admin bodies are written here to match their routes, and
 * openapi.test.ts checks them against real answers, so a drift fails a test.
 */
import { chatSchema } from './chat-wire.js';
import { requestSchema as completionsRequestSchema } from './completions-wire.js';
import { z } from 'zod';
import { type HeistErrorCode, errorCatalog } from '../core/errors.js';
import { modelDescriptionSchema, wirePredictionSchema } from '../oracle/formats/heist-v1/schema.js';

export { modelDescriptionSchema };

/** Every HEIST_ERR_* code of the catalog. */
export const errorCodeSchema = z.enum(Object.keys(errorCatalog) as [HeistErrorCode, ...HeistErrorCode[]]);

/** Every error the gateway sends: {"error": {"code", "message"}}. */
export const errorBodySchema = z.strictObject({
  error: z.strictObject({ code: errorCodeSchema, message: z.string() }),
});

export const healthResponseSchema = z.strictObject({ status: z.literal('ok') });

export const modelListResponseSchema = z.strictObject({ models: z.array(modelDescriptionSchema) });

/** POST /v1/models/{name}/predict, JSON body. */
export const predictRequestSchema = z.strictObject({
  inputs: z
    .array(
      z
        .array(z.number().nullable())
        .describe(
          'one flattened row of inputSize numbers; null (a missing feature) only for models with missingValues',
        ),
    )
    .min(1)
    .describe('rows, at most maxBatch of them'),
  output: z
    .enum(['label', 'probabilities'])
    .optional()
    .describe('"label": labels only; default: what the model serves'),
});

/** The gateway's predict answer (the client's schema, with "model" always present). */
export const predictResponseSchema = z.strictObject({
  model: z.string(),
  predictions: z.array(wirePredictionSchema),
});

/** POST /v1/completions: the route's own schema. */
export const completionRequestSchema = completionsRequestSchema;

const usageSchema = z.strictObject({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

export const completionResponseSchema = z.strictObject({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.strictObject({
      text: z.string(),
      index: z.literal(0),
      logprobs: z
        .strictObject({
          tokens: z.array(z.string()),
          token_logprobs: z.array(z.number()),
          top_logprobs: z.array(z.record(z.string(), z.number())),
          text_offset: z.array(z.number().int()),
          x_heist_logits: z.array(z.array(z.number())).optional(),
        })
        .nullable(),
      finish_reason: z.literal('length'),
    }),
  ),
  usage: usageSchema,
});

/** POST /v1/chat/completions: the route's own schema (ranges are then checked as for completions). */
export const chatRequestSchema = chatSchema;

const chatTokenSchema = z.strictObject({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()) });

export const chatResponseSchema = z.strictObject({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.strictObject({
      index: z.literal(0),
      message: z.strictObject({ role: z.literal('assistant'), content: z.string() }),
      logprobs: z
        .strictObject({
          content: z.array(chatTokenSchema.extend({ top_logprobs: z.array(chatTokenSchema) })),
        })
        .nullable(),
      finish_reason: z.literal('length'),
    }),
  ),
  usage: usageSchema,
});

/** What the admin API shows of an API key (never its secret or digest). */
export const keyRecordSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  tier: z.string(),
  createdAt: z.number().int().describe('epoch ms'),
  expiresAt: z.number().int().optional().describe('epoch ms'),
  revokedAt: z.number().int().optional().describe('epoch ms'),
  label: z.string().optional(),
});

export const keyListResponseSchema = z.strictObject({ keys: z.array(keyRecordSchema) });

/** POST /admin/keys body (routes/admin.ts may validate with this very schema). */
export const createKeyRequestSchema = z.strictObject({
  tier: z.string().min(1).max(40),
  expiresAt: z.number().int().positive().optional().describe('epoch ms; omitted: the key does not expire'),
  label: z.string().max(200).optional(),
});

export const createdKeyResponseSchema = keyRecordSchema.extend({
  key: z.string().describe('the whole key, hk_<id>_<secret>: shown once, store it now'),
});

/** GET /admin/audit/verify (store/types.ts VerifyReport). */
export const auditVerifyResponseSchema = z.strictObject({
  ok: z.boolean(),
  records: z.number().int(),
  logs: z.array(z.strictObject({ log: z.string(), records: z.number().int(), head: z.string() })),
  firstBad: z.strictObject({ log: z.string(), seq: z.number().int(), reason: z.string() }).optional(),
});

export const adminHealthResponseSchema = z.strictObject({
  status: z.literal('ok'),
  uptimeSeconds: z.number().int(),
  keys: z.number().int(),
  tiers: z.array(z.string()),
  anonymous: z.boolean(),
  audit: z.strictObject({ url: z.string(), log: z.string() }).nullable(),
  limiter: z.strictObject({ url: z.string(), failMode: z.enum(['open', 'closed']) }).nullable(),
});
