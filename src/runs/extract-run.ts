/**
 * @file `heist extract` as a function: resolve the target, check the method's requirements before
 * any paid query, buy the method's rows through the query client (budget, cache, transcript),
 * extract, measure agreement with the target on a scenario's evaluation split and on uniform
 * random inputs (both bought with purpose 'eval', counted apart from the attack), export the
 * extracted model as ONNX and JSON weights, and write run.json and report.html.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  type Extractor,
  checkExtractor,
  designRows,
  extractors,
  getExtractor,
  type LinearWeights,
} from '../attacks/extract/index.js';
import { networkToOnnx } from '../backends/onnx-writer.js';
import type { Dataset } from '../core/dataset.js';
import { HeistError } from '../core/errors.js';
import { channelsLastShape, inputSize, type ModelInfo } from '../core/prediction.js';
import { createRng } from '../core/rng.js';
import { tensor } from '../core/tensor.js';
import { type Clock, systemClock } from '../core/types.js';
import { scenarios } from '../datasets/scenarios.js';
import { buyEvaluationLabels, evaluateSubstitute } from '../eval/evaluate.js';
import { agreement } from '../eval/metrics.js';
import type { NetworkSpec } from '../models/network-spec.js';
import type { Oracle } from '../oracle/types.js';
import { createQueryClient } from '../query/client.js';
import type { QueryClient } from '../query/types.js';
import { type RunMetrics, type RunRecord, RUN_SCHEMA } from '../report/run-record.js';
import type { Reporter } from '../report/types.js';
import { resolveEval } from './data-sources.js';
import { type Confirm, costSummary } from './cost-summary.js';
import { clientSettings, targetSettingsFields, oracleSettings } from './target-settings.js';
import { registryName } from './registry-name.js';
import { redactHeaders, runId, targetRecord, withFileReporters } from './run-parts.js';
import { resolveTarget } from './target.js';
import { heistVersion } from './version.js';

export const extractConfigSchema = z
  .object({
    method: registryName(extractors),
    /** Options of the method, validated by its own schema (e.g. mlp-equation-solving's hidden width). */
    methodOptions: z.record(z.string(), z.unknown()).optional(),
    target: z.string().min(1),
    /** Paid attack rows; default the method's minimum (d + 1 for equation solving). */
    budget: z.number().int().positive().optional(),
    out: z.string().min(1),
    seed: z.number().int().nonnegative().default(0),
    /** A scenario (its evaluation split) or a data set. */
    eval: z.string().min(1).optional(),
    /** Uniform random rows in the domain on which to compare extracted model and target (0 = skip). */
    uniformEval: z.number().int().nonnegative().default(10_000),
    design: z.enum(['uniform', 'basis']).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    ...targetSettingsFields,
  })
  .strict();

export type ExtractConfig = z.output<typeof extractConfigSchema>;
export type ExtractConfigInput = z.input<typeof extractConfigSchema>;

export interface ExtractRunHooks {
  /** Live reporters (e.g. terminal); run.json and report.html are always written. */
  readonly reporters?: readonly Reporter[];
  readonly clock?: Clock;
  /** Override fetch (tests route HTTP through fastify inject). */
  readonly fetch?: typeof fetch;
  /** Use this oracle instead of resolving config.target (library use and tests); config.target is then only a label. */
  readonly oracle?: Oracle;
  /** Called with what the run will buy, after every check and before anything is paid; reject to stop. */
  readonly confirm?: Confirm;
}

export const EXTRACTED_ONNX = 'extracted.onnx';
export const EXTRACTED_WEIGHTS = 'extracted-weights.json';
const TRANSCRIPT_FILE = 'transcript.jsonl';

export function parseExtractConfig(input: unknown): ExtractConfig {
  const res = extractConfigSchema.safeParse(input);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `invalid extract settings at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      {
        details: res.error.issues,
      },
    );
  }
  return res.data;
}

/**
 * A dense + softmax NetworkSpec: what networkToOnnx writes for a softmax regression, its input
 * shape read channels-last.
 */
export function linearSpec(info: ModelInfo, w: LinearWeights): NetworkSpec {
  const shape = [...channelsLastShape(info.inputShape)];
  const flatten = shape.length > 1 ? [{ type: 'flatten' as const }] : [];
  const dense = {
    type: 'dense' as const,
    inputs: w.d,
    units: w.k,
    kernel: Float32Array.from(w.weights),
    bias: Float32Array.from(w.bias),
  };
  return { inputShape: shape, classes: w.k, layers: [...flatten, dense, { type: 'softmax' }] };
}

/** The JSON weights file: d rows of k numbers (float64), class 0 fixed to zero. */
export function weightsJson(info: ModelInfo, w: LinearWeights): string {
  const rows = Array.from({ length: w.d }, (_, j) => Array.from(w.weights.subarray(j * w.k, (j + 1) * w.k)));
  const doc = {
    format: 'heist.linear/v1',
    model: `p = softmax(x W + b); W is [d, k] (weights[j][c]); class ${w.referenceClass} fixed to zero`,
    name: `extracted-${info.name}`,
    inputShape: info.inputShape,
    classes: w.k,
    classNames: info.classNames,
    domain: info.domain,
    weights: rows,
    bias: Array.from(w.bias),
  };
  return `${JSON.stringify(doc)}\n`;
}

export async function runExtract(input: unknown, hooks: ExtractRunHooks = {}): Promise<RunRecord> {
  const config = parseExtractConfig(input);
  const clock = hooks.clock ?? systemClock;
  const startedAt = new Date(clock.now());
  const extractor = getExtractor(config.method, config.methodOptions);
  const outDir = resolve(config.out);
  mkdirSync(outDir, { recursive: true });
  if (existsSync(join(outDir, TRANSCRIPT_FILE))) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `${join(outDir, TRANSCRIPT_FILE)} exists: choose another --out (paid answers are never overwritten)`,
    );
  }
  const target = hooks.oracle
    ? { oracle: hooks.oracle, kind: 'file' as const, location: config.target }
    : await resolveTarget(config.target, { headers: config.headers, fetch: hooks.fetch, ...oracleSettings(config) });
  const info = target.oracle.info;
  try {
    const budget = checkExtractor(extractor, info, config.budget); // before the first paid query
    const evalData = config.eval ? resolveEval(config.eval) : undefined;
    if (evalData && evalData.x.data.length !== evalData.x.shape[0] * inputSize(info)) {
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `evaluation set "${config.eval}" rows do not fit the target's input [${info.inputShape.join(', ')}]`,
      );
    }
    const evalRows = evalData ? evalData.x.shape[0] : 0;
    const warnings = [
      ...(config.uniformEval > 0
        ? [
            `${config.uniformEval} uniform random rows are bought to measure agreement (--uniform-eval N changes it; 0 skips it)`,
          ]
        : []),
      ...(config.uniformEval === 0 && !evalData
        ? ['no evaluation at all: agreement will not be measured (pass --eval or --uniform-eval)']
        : []),
    ];
    await hooks.confirm?.(
      costSummary({
        kind: 'extract',
        target: config.target,
        attackQueries: budget,
        evalQueries: evalRows + config.uniformEval,
        pricePerQuery: target.oracle.pricePer1k !== undefined ? target.oracle.pricePer1k / 1000 : undefined,
        warnings,
      }),
    );
    const client = createQueryClient(target.oracle, {
      budget: { attack: budget, eval: evalRows + config.uniformEval },
      transcriptPath: join(outDir, TRANSCRIPT_FILE),
      ...clientSettings(config),
    });
    try {
      return await extractAndReport({
        config,
        extractor,
        budget,
        info,
        target,
        client,
        evalData,
        startedAt,
        clock,
        outDir,
        extra: hooks.reporters ?? [],
      });
    } finally {
      await client.close();
    }
  } finally {
    if (!hooks.oracle) await target.oracle.close?.();
  }
}

interface RunContext {
  readonly config: ExtractConfig;
  readonly extractor: Extractor;
  readonly budget: number;
  readonly info: ModelInfo;
  readonly target: { readonly kind: 'url' | 'file'; readonly location: string; readonly format?: string };
  readonly client: QueryClient;
  readonly evalData?: Dataset;
  readonly startedAt: Date;
  readonly clock: Clock;
  readonly outDir: string;
  readonly extra: readonly Reporter[];
}

async function extractAndReport(ctx: RunContext): Promise<RunRecord> {
  const { config, extractor, budget, info, target, client, evalData, startedAt, clock, outDir } = ctx;
  const rng = createRng(config.seed);
  const reporters = withFileReporters(ctx.extra);
  const id = runId('extract', startedAt, config.seed);
  const { headers, ...rest } = config;
  const recordConfig = {
    ...rest,
    ...(headers ? { headers: redactHeaders(headers) } : {}),
    ...(target.format !== undefined ? { format: target.format } : {}),
    budget,
  };
  for (const r of reporters) await r.onStart?.({ id, kind: 'extract', config: recordConfig });

  const t0 = performance.now();
  const result = await extractor.extract(client, { budget, rng: rng.fork('extract'), design: config.design });
  const extractMs = performance.now() - t0;
  const attackUsed = client.spentByPurpose.attack;

  const metrics: RunMetrics = { extractMs, ...result.diagnostics };
  const notes = [...result.notes];
  if (evalData) {
    const res = await evaluateSubstitute(result.model, await buyEvaluationLabels(client, evalData));
    Object.assign(metrics, { fidelity: res.fidelity, evalSplitFidelity: res.fidelity });
    if (res.accuracy !== undefined) metrics.accuracy = res.accuracy;
    if (res.targetAccuracy !== undefined) metrics.targetAccuracy = res.targetAccuracy;
    notes.push(
      `agreement on the evaluation split of ${config.eval}: ${evalData.x.shape[0]} rows bought with purpose 'eval'`,
    );
  }
  if (config.uniformEval > 0) {
    const d = inputSize(info);
    const u = tensor(designRows(info, config.uniformEval, 'uniform', rng.fork('uniform-eval')), [
      config.uniformEval,
      d,
    ]);
    const theirs = await client.query(u, { purpose: 'eval' });
    const ours = await result.model.predict(u);
    metrics.uniformFidelity = agreement(theirs.labels, ours.labels);
    if (metrics.fidelity === undefined) metrics.fidelity = metrics.uniformFidelity;
    notes.push(
      `agreement on ${config.uniformEval} uniform random inputs in [${info.domain.min}, ${info.domain.max}]^${d}: bought with purpose 'eval'`,
    );
  }

  const artifacts: RunRecord['artifacts'] = { transcript: TRANSCRIPT_FILE, report: 'report.html' };
  const meta = {
    name: `extracted-${info.name}`,
    domain: info.domain,
    classNames: info.classNames ? [...info.classNames] : undefined,
  };
  if (result.weights) {
    writeFileSync(join(outDir, EXTRACTED_ONNX), networkToOnnx(linearSpec(info, result.weights), meta));
    writeFileSync(join(outDir, EXTRACTED_WEIGHTS), weightsJson(info, result.weights));
    artifacts.substitute = EXTRACTED_ONNX;
    notes.push(`weights: ${EXTRACTED_WEIGHTS} (float64); model: ${EXTRACTED_ONNX} (float32)`);
  }
  if (result.spec && !result.weights) {
    // A network (e.g. an MLP solved for by mlp-equation-solving): its spec as ONNX.
    writeFileSync(join(outDir, EXTRACTED_ONNX), networkToOnnx(result.spec, meta));
    artifacts.substitute = EXTRACTED_ONNX;
    notes.push(`model: ${EXTRACTED_ONNX} (float32)`);
  }
  if (result.modelFile) {
    // A model with no ONNX export here (e.g. a reconstructed decision tree, heist.tree/v1 JSON).
    writeFileSync(join(outDir, result.modelFile.name), result.modelFile.contents);
    artifacts.substitute ??= result.modelFile.name;
    notes.push(`model: ${result.modelFile.name}`);
  }
  const finishedAt = new Date(clock.now());
  const evalSpent = client.spentByPurpose.eval;
  const scenario = config.eval && config.eval in scenarios ? scenarios[config.eval] : undefined;
  const record: RunRecord = {
    schema: RUN_SCHEMA,
    id,
    kind: 'extract',
    heistVersion,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallMs: finishedAt.getTime() - startedAt.getTime(),
    seed: config.seed,
    config: {
      ...recordConfig,
      method: extractor.name,
      paper: extractor.paper,
      ...(scenario ? { scenario: scenario.name } : {}),
    },
    target: targetRecord(target, info),
    queries: { budget, used: attackUsed, cached: client.cached, eval: evalSpent, total: attackUsed + evalSpent },
    rounds: [
      {
        round: 1,
        queriesUsed: attackUsed,
        labeledRows: result.queriesUsed,
        metrics: { ...metrics },
        wallMs: extractMs,
      },
    ],
    metrics,
    artifacts,
    notes,
  };
  for (const r of reporters) await r.onEnd(record, outDir);
  return record;
}
