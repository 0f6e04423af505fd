/**
 * @file The heist-v1 bodies as zod schemas: the one definition of the format's shapes. The server's
 * types are inferred from them (server.ts writes exactly these); the client validates answers with
 * them (client.ts), relaxing the fields a foreign heist-v1 server may leave out.
 */
import { z } from 'zod';

const outputKind = z.enum(['probs', 'label', 'logits', 'topk']);

/** GET /v1/models/{name}: what the gateway declares about a served model. */
export const modelDescriptionSchema = z.object({
  name: z.string(),
  inputShape: z.array(z.number().int().positive()).min(1),
  inputSize: z.number().int().positive(),
  classes: z.number().int().min(2),
  classNames: z.array(z.string()).optional(),
  /** What this gateway serves (label when the model or a defense drops scores). */
  output: outputKind,
  domain: z.object({ min: z.number(), max: z.number() }),
  maxBatch: z.number().int().positive(),
  /** Present for models that accept null inputs (trees): how a missing feature is evaluated. */
  missingValues: z.literal('stop-at-node').optional(),
  /** Present when the predict route also takes float32 rows as application/octet-stream (binary.ts). */
  binaryInputs: z.literal(true).optional(),
});

/** What a client accepts: inputSize and maxBatch may be absent. */
export const remoteDescriptionSchema = modelDescriptionSchema.partial({ inputSize: true, maxBatch: true });

export const wirePredictionSchema = z.object({
  label: z.number().int().nonnegative(),
  probabilities: z.array(z.number()).optional(),
  /** Raw scores of a logits model, in place of probabilities. */
  logits: z.array(z.number()).optional(),
  /** The answering tree node's id (models with leaf identifiers only; Prediction.leafIds). */
  leaf: z.union([z.string(), z.number()]).optional(),
});

/** POST /v1/models/{name}/predict answer. */
export const predictResponseSchema = z.object({
  model: z.string().optional(),
  predictions: z.array(wirePredictionSchema),
});

/** GET /v1/models: {"models": [{"name"}, ...]} or ["name", ...]. */
export const modelListSchema = z.union([
  z.array(z.string()),
  z.object({ models: z.array(z.union([z.string(), z.object({ name: z.string() })])) }),
]);

export const errorBodySchema = z.object({
  error: z.object({ code: z.string().optional(), message: z.string().optional() }),
});

export type ModelDescription = z.infer<typeof modelDescriptionSchema>;
export type WirePrediction = z.infer<typeof wirePredictionSchema>;
export type PredictResponse = { model: string; predictions: WirePrediction[] };
