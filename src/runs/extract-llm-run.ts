/**
 * @file `heist extract --method llm-final-layer` as a function: buy logit vectors from an
 * OpenAI-style /v1/completions API (budget, token count and transcript in the completions client),
 * recover the hidden size and W up to an h x h transform, optionally verify against the true model
 * file (--verify), and write run.json (heist.run/v1), report.html, llm-run.json, projection.json
 * and transcript.jsonl.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  type LlmAttackResult,
  alignProjection,
  relativeToReference,
  textExtractors,
} from '../attacks/extract/llm/index.js';
import { denseMatrix } from '../backends/linalg.js';
import { HeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { type Clock, systemClock } from '../core/types.js';
import { loadTinyLm } from '../models/tiny-lm.js';
import { createCompletionsClient } from '../query/completions-client.js';
import { redactHeaders, withFileReporters } from './run-parts.js';
import { type LlmRunRecord, llmRunRecord } from './llm-run-record.js';

export type { LlmRunRecord } from './llm-run-record.js';
import { heistVersion } from './version.js';

export const llmExtractConfigSchema = z
  .object({
    /** API root holding /completions, e.g. http://127.0.0.1:8080/v1. */
    target: z.string().regex(/^https?:\/\//i, 'target must be an http(s) URL ending in /v1'),
    model: z.string().min(1).default('tiny-lm'),
    out: z.string().min(1),
    prompts: z.number().int().min(2).max(100_000).default(128),
    logits: z.enum(['full', 'topk']).default('topk'),
    /** The OpenAI API spoken: legacy completions, or chat completions (top-k logprobs only). */
    api: z.enum(['completions', 'chat']).default('completions'),
    /** Most paid requests; default exactly what the prompts need. */
    budget: z.number().int().positive().optional(),
    seed: z.number().int().nonnegative().default(0),
    pricePer1k: z.number().nonnegative().optional(),
    /** A heist.tiny-lm/v1 file: align the recovered W to its true W (evaluation only). */
    verify: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((c) => !(c.api === 'chat' && c.logits === 'full'), {
    message: 'the chat API has no full logits: use --logits topk',
    path: ['logits'],
  });

export type LlmExtractConfigInput = z.input<typeof llmExtractConfigSchema>;

export interface LlmExtractHooks {
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
}

export async function runExtractLlm(
  input: unknown,
  hooks: LlmExtractHooks = {},
): Promise<{ record: LlmRunRecord; result: LlmAttackResult }> {
  const parsed = llmExtractConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `invalid llm-final-layer settings at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const c = parsed.data;
  const clock = hooks.clock ?? systemClock;
  const truth = c.verify ? loadTinyLm(c.verify) : undefined; // fail before any paid query
  const outDir = resolve(c.out);
  mkdirSync(outDir, { recursive: true });
  const extractor = textExtractors.create(
    'llm-final-layer',
    { model: c.model, prompts: c.prompts, source: c.logits, pricePer1kTokens: c.pricePer1k },
    undefined,
  );
  const budget = c.budget ?? extractor.queriesNeeded();
  const client = createCompletionsClient(c.target, {
    maxQueries: budget,
    api: c.api,
    transcriptPath: join(outDir, 'transcript.jsonl'),
    headers: c.headers,
    fetch: hooks.fetch,
    clock,
    fsync: false,
  });
  const t0 = clock.now();
  let result: LlmAttackResult;
  try {
    result = await extractor.extract(client, createRng(c.seed).fork('llm-final-layer'));
  } finally {
    client.close();
  }
  let verification: LlmRunRecord['verification'];
  if (truth) {
    const w = denseMatrix(truth.vocab, truth.hidden, truth.params.unembed);
    const target = result.reference === undefined ? w : relativeToReference(w, result.reference);
    const ok = result.hiddenSize === truth.hidden;
    const a = ok ? alignProjection(result.projection, target) : undefined;
    verification = {
      trueHiddenSize: truth.hidden,
      hiddenSizeCorrect: ok,
      alignedTo:
        result.reference === undefined ? 'W' : `W - 1 w_${result.reference}^T (logits relative to the reference token)`,
      rms: a?.rms ?? NaN,
      relativeRms: a?.relative ?? NaN,
    };
  }
  const { headers, ...rest } = c;
  const record: LlmRunRecord = {
    schema: 'heist.llm-extract/v1',
    method: 'llm-final-layer',
    paper: 'arXiv:2403.06634',
    heistVersion,
    config: { ...rest, ...(headers ? { headers: redactHeaders(headers) } : {}), budget },
    hiddenSize: result.hiddenSize,
    gapRatio: result.gapRatio,
    singularValues: Array.from(result.singularValues),
    queries: result.queries,
    promptTokens: result.promptTokens,
    completionTokens: result.completionTokens,
    totalTokens: result.totalTokens,
    pricePer1kTokens: result.pricePer1kTokens,
    costUsd: result.costUsd,
    wallMs: clock.now() - t0,
    ...(verification ? { verification } : {}),
  };
  writeFileSync(join(outDir, 'llm-run.json'), `${JSON.stringify(record, null, 1)}\n`);
  const p = result.projection;
  const rows = Array.from({ length: p.rows }, (_, i) => Array.from(p.data.subarray(i * p.cols, (i + 1) * p.cols)));
  writeFileSync(
    join(outDir, 'projection.json'),
    `${JSON.stringify({ format: 'heist.projection/v1', note: 'W up to an h x h transform: V_h diag(s_h), rows = tokens', vocab: p.rows, hidden: p.cols, w: rows })}\n`,
  );
  // The common run record and report, like every other extraction.
  const run = llmRunRecord(record, {
    target: c.target,
    model: c.model,
    seed: c.seed,
    startedAt: t0,
    vocab: p.rows,
    budget,
  });
  for (const reporter of withFileReporters()) await reporter.onEnd(run, outDir);
  return { record, result };
}
