/**
 * @file The gateway's request and response bodies as zod schemas, for the OpenAPI document
 * (openapi.ts). heist-v1 shapes come from the format's own schemas (oracle/formats/heist-v1); the
 * completions, chat and admin bodies are written here to match their decoders and routes
 * (completions-wire.ts, chat-wire.ts, routes/admin.ts); openapi.test.ts checks them against the
 * real decoders and answers, so a drift fails a test.
 */
import { z } from 'zod';
import { type HeistErrorCode, errorCatalog } from '../core/errors.js';
import { BYTE_VOCAB } from '../models/byte-tokenizer.js';
import { modelDescriptionSchema, wirePredictionSchema } from '../oracle/formats/heist-v1/schema.js';
import { MAX_BIAS, MAX_COMPLETION_TOKENS, MAX_PROMPT_TOKENS, MAX_TOP_LOGPROBS } from './completions-wire.js';

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

const tokenKey = /^(0|[1-9][0-9]{0,5})$/;

/** POST /v1/completions (completions-wire.ts requestSchema). */
export const completionRequestSchema = z.strictObject({
  model: z.string().min(1).max(100),
  prompt: z.union([
    z.string(),
    z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(BYTE_VOCAB - 1),
      )
      .max(MAX_PROMPT_TOKENS),
  ]),
  max_tokens: z.number().int().min(1).max(MAX_COMPLETION_TOKENS).default(16),
  logprobs: z
    .union([z.number().int().min(0).max(MAX_TOP_LOGPROBS), z.literal('full'), z.null()])
    .optional()
    .describe('top-k logprobs per token; "full" (Heist extension) adds every logit as x_heist_logits'),
  logit_bias: z
    .record(z.string().regex(tokenKey), z.number().min(-MAX_BIAS).max(MAX_BIAS))
    .optional()
    .describe('token id -> bias added to its logit'),
  temperature: z.number().min(0).max(2).default(1),
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  n: z.literal(1).optional(),
  stream: z.literal(false).optional(),
  echo: z.literal(false).optional(),
  user: z.string().max(256).optional(),
});

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

/** POST /v1/chat/completions (chat-wire.ts chatSchema; ranges are then checked as for completions). */
export const chatRequestSchema = z.strictObject({
  model: z.string(),
  messages: z
    .array(
      z.strictObject({
        role: z.enum(['system', 'user', 'assistant']),
        content: z.string(),
        name: z.string().optional(),
      }),
    )
    .min(1),
  max_tokens: z.number().optional(),
  max_completion_tokens: z.number().optional(),
  logprobs: z.boolean().optional(),
  top_logprobs: z.number().int().min(0).max(MAX_TOP_LOGPROBS).optional(),
  logit_bias: z.record(z.string(), z.number()).optional(),
  temperature: z.number().optional(),
  seed: z.number().optional(),
  n: z.literal(1).optional(),
  stream: z.literal(false).optional(),
  user: z.string().optional(),
});

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
