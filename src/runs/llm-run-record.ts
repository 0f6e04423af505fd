/**
 * @file The LLM final-layer run as a `heist.run/v1` record (kind 'extract'), so that it gets the
 * same run.json and report.html as every other extraction. The target is a text API: its "input" is
 * one prompt and its "classes" are the vocabulary.
 */
import { RUN_SCHEMA, type RunRecord } from '../report/run-record.js';
import type { LlmAttackResult } from '../attacks/extract/llm/index.js';
import { runId } from './run-parts.js';

/** Query and token accounting is the attack's own (LlmAttackResult). */
export interface LlmRunRecord
  extends Pick<
    LlmAttackResult,
    'queries' | 'promptTokens' | 'completionTokens' | 'totalTokens' | 'pricePer1kTokens' | 'costUsd'
  > {
  readonly schema: 'heist.llm-extract/v1';
  readonly method: 'llm-final-layer';
  readonly paper: string;
  readonly heistVersion: string;
  readonly config: Record<string, unknown>;
  readonly hiddenSize: number;
  readonly gapRatio: number;
  /** Singular values s_1..s_min(n,V). */
  readonly singularValues: number[];
  readonly wallMs: number;
  readonly verification?: {
    readonly trueHiddenSize: number;
    readonly hiddenSizeCorrect: boolean;
    readonly alignedTo: string;
    readonly rms: number;
    readonly relativeRms: number;
  };
}

export function llmRunRecord(
  r: LlmRunRecord,
  o: { target: string; model: string; seed: number; startedAt: number; vocab: number; budget: number },
): RunRecord {
  const finished = o.startedAt + r.wallMs;
  const metrics: Record<string, number> = {
    hiddenSize: r.hiddenSize,
    spectrumGap: r.gapRatio,
    totalTokens: r.totalTokens,
    costUsd: r.costUsd,
  };
  if (r.verification) {
    metrics.hiddenSizeCorrect = r.verification.hiddenSizeCorrect ? 1 : 0;
    if (Number.isFinite(r.verification.rms)) metrics.alignedRms = r.verification.rms;
    if (Number.isFinite(r.verification.relativeRms)) metrics.alignedRelativeRms = r.verification.relativeRms;
  }
  return {
    schema: RUN_SCHEMA,
    id: runId('extract-llm', new Date(o.startedAt), o.seed),
    kind: 'extract',
    heistVersion: r.heistVersion,
    startedAt: new Date(o.startedAt).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    wallMs: r.wallMs,
    seed: o.seed,
    config: { ...r.config, method: r.method },
    target: { url: o.target, model: o.model, inputShape: [1], classes: o.vocab, output: 'logits' },
    queries: { budget: o.budget, used: r.queries, cached: 0, eval: 0, total: r.queries },
    rounds: [],
    metrics,
    artifacts: { substitute: 'projection.json', transcript: 'transcript.jsonl', report: 'report.html' },
    notes: [
      `Carlini et al. 2024 (${r.paper}): hidden size ${r.hiddenSize} from the rank of ${r.queries > 0 ? 'the logit matrix' : 'no answers'}; W recovered up to an h x h transform (projection.json)`,
      `${r.promptTokens} prompt + ${r.completionTokens} completion tokens; cost $${r.costUsd.toFixed(4)} at $${r.pricePer1kTokens}/1k tokens (an assumed price)`,
      ...(r.verification
        ? [
            `verified against the true model: aligned to ${r.verification.alignedTo}, RMS ${r.verification.rms.toExponential(2)}`,
          ]
        : []),
      'full details (singular values): llm-run.json',
    ],
  };
}
