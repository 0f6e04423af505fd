/**
 * Bench: llm-final-layer (Carlini et al., arXiv:2403.06634, §4-§5) against models/tiny-lm.json
 * served over real HTTP (POST /v1/completions on 127.0.0.1). For full logits and for top-5
 * logprobs + logit_bias, each with float64 and float32-rounded server outputs: recovered hidden
 * size, spectrum gap, RMS of W after h x h alignment, queries, tokens, cost, wall time.
 *   node --import tsx bench/llm-final-layer.ts   ->  bench/results/llm-final-layer.json
 */
import { join } from 'node:path';
import {
  DEFAULT_PRICE_PER_1K_TOKENS,
  type LogitSource,
  alignProjection,
  queriesNeeded,
  relativeToReference,
  stealFinalLayer,
} from '../src/attacks/extract/llm/index.js';
import { denseMatrix } from '../src/backends/linalg.js';
import { createRng } from '../src/core/rng.js';
import { repoRoot } from '../src/datasets/paths.js';
import { buildGateway } from '../src/gateway/server.js';
import { loadTinyLm, nextLogits } from '../src/models/tiny-lm.js';
import { createCompletionsClient } from '../src/query/completions-client.js';
import { writeBenchResult } from './results-file.js';

const lm = loadTinyLm(join(repoRoot, 'models', 'tiny-lm.json'));
const W = denseMatrix(lm.vocab, lm.hidden, lm.params.unembed);
const runs: Record<string, unknown>[] = [];
const cases: { source: LogitSource; precision: 'float64' | 'float32'; prompts: number }[] = [
  { source: 'full', precision: 'float64', prompts: 128 },
  { source: 'full', precision: 'float64', prompts: 256 },
  { source: 'full', precision: 'float32', prompts: 128 },
  { source: 'topk', precision: 'float64', prompts: 128 },
  { source: 'topk', precision: 'float32', prompts: 128 },
];
for (const c of cases) {
  const app = buildGateway(
    { models: [] },
    { languageModels: [{ name: 'tiny-lm', nextLogits: (t) => nextLogits(lm, t), precision: c.precision }] },
  );
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const client = createCompletionsClient(`${url}/v1`, { maxQueries: queriesNeeded(c.source, c.prompts) });
  const t0 = performance.now();
  const r = await stealFinalLayer(client, {
    model: 'tiny-lm',
    prompts: c.prompts,
    source: c.source,
    rng: createRng(1),
  });
  const seconds = (performance.now() - t0) / 1000;
  await app.close();
  const truth = r.reference === undefined ? W : relativeToReference(W, r.reference);
  const a = r.hiddenSize === lm.hidden ? alignProjection(r.projection, truth) : undefined;
  const s = r.singularValues;
  const h = r.hiddenSize;
  const row = {
    logits: c.source,
    serverPrecision: c.precision,
    prompts: c.prompts,
    trueHiddenSize: lm.hidden,
    recoveredHiddenSize: h,
    correct: h === lm.hidden,
    gapRatio: r.gapRatio,
    sH: s[h - 1],
    sHplus1: s[h],
    s1: s[0],
    alignedTo: r.reference === undefined ? 'W' : `W - 1 w_${r.reference}^T`,
    rmsAfterAlignment: a?.rms ?? null,
    relativeRms: a?.relative ?? null,
    queries: r.queries,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    totalTokens: r.totalTokens,
    costUsd: r.costUsd,
    seconds,
  };
  runs.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
const path = writeBenchResult('llm-final-layer', {
  bench: 'llm-final-layer',
  paper: 'N. Carlini et al., "Stealing Part of a Production Language Model", ICML 2024, arXiv:2403.06634',
  model: { file: 'models/tiny-lm.json', vocab: lm.vocab, hidden: lm.hidden, context: lm.context, finalBias: false },
  transport: 'HTTP on 127.0.0.1 (fastify gateway, POST /v1/completions), sequential requests',
  pricePer1kTokensUsd: DEFAULT_PRICE_PER_1K_TOKENS,
  priceNote: 'assumed round figure for prompt + completion tokens, not a vendor list price',
  runs,
});
process.stdout.write(`wrote ${path}\n`);
