/**
 * @file The OpenAI-compatible chat completions format (POST /v1/chat/completions), translated to
 * and from the completions one so that both routes run the same model code. A byte-level model has
 * no chat template: the prompt is the messages' contents joined by newlines. `logprobs: true` with
 * `top_logprobs: k` (0..5) answers, per generated token, {token, logprob, bytes, top_logprobs}.
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { tokenId } from '../models/byte-tokenizer.js';
import {
  type CompletionRequest,
  type CompletionResponse,
  MAX_TOP_LOGPROBS,
  decodeCompletionRequest,
} from './completions-wire.js';

/** The request body, also the OpenAPI document's schema (openapi-schemas.ts). */
export const chatSchema = z.strictObject({
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

export function decodeChatRequest(body: unknown): CompletionRequest {
  const r = chatSchema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new HeistError(
      'HEIST_ERR_BAD_BODY',
      `invalid chat completion request at ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'bad value'}`,
    );
  }
  const q = r.data;
  if (q.top_logprobs !== undefined && q.logprobs !== true)
    throw new HeistError('HEIST_ERR_BAD_BODY', 'top_logprobs needs "logprobs": true');
  // The completions decoder does the rest of the validation (token ids, bias range, lengths).
  return decodeCompletionRequest({
    model: q.model,
    prompt: q.messages.map((m) => m.content).join('\n'),
    ...(q.max_completion_tokens !== undefined || q.max_tokens !== undefined
      ? { max_tokens: q.max_completion_tokens ?? q.max_tokens }
      : {}),
    ...(q.logprobs ? { logprobs: q.top_logprobs ?? 0 } : {}),
    ...(q.logit_bias ? { logit_bias: q.logit_bias } : {}),
    ...(q.temperature !== undefined ? { temperature: q.temperature } : {}),
    ...(q.seed !== undefined ? { seed: q.seed } : {}),
  });
}

/** The token's bytes (one per token: the vocabulary is bytes). */
const bytes = (token: string): number[] => {
  const id = tokenId(token);
  return id === undefined ? [] : [id];
};

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: 0;
    message: { role: 'assistant'; content: string };
    logprobs: {
      content: {
        token: string;
        logprob: number;
        bytes: number[];
        top_logprobs: { token: string; logprob: number; bytes: number[] }[];
      }[];
    } | null;
    finish_reason: 'length';
  }[];
  usage: CompletionResponse['usage'];
}

export function encodeChatResponse(r: CompletionResponse): ChatResponse {
  const c = r.choices[0];
  const lp = c.logprobs;
  return {
    id: r.id.replace(/^cmpl-/, 'chatcmpl-'),
    object: 'chat.completion',
    created: r.created,
    model: r.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: c.text },
        logprobs: lp
          ? {
              content: lp.tokens.map((token, i) => ({
                token,
                logprob: lp.token_logprobs[i],
                bytes: bytes(token),
                top_logprobs: Object.entries(lp.top_logprobs[i]).map(([t, logprob]) => ({
                  token: t,
                  logprob,
                  bytes: bytes(t),
                })),
              })),
            }
          : null,
        finish_reason: 'length',
      },
    ],
    usage: r.usage,
  };
}
