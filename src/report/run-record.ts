/**
 * @file The `heist.run/v1` run record: the one artifact every command writes (DIR/run.json).
 * A zod schema is the single source of truth; the TS type is inferred from it. Reports are
 * re-rendered from this file alone, so anything a report shows must be in here.
 *
 * Counting rules (units: one query = one input row):
 * - `queries.used`: paid rows sent upstream by the attack (cache hits excluded), <= `budget`.
 * - `queries.cached`: rows answered from the cache (free, never counted against the budget).
 * - `queries.eval`: paid rows spent on evaluation (separate eval budget), reported apart.
 * - `queries.total`: every paid row = `used + eval`.
 * - `rounds[i].queriesUsed`: cumulative `used` at the end of round i (the x axis of the curve).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';

export const RUN_SCHEMA = 'heist.run/v1' as const;
export const RUN_FILE = 'run.json';

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();
const isoTime = z.iso.datetime({ offset: true });
/** A file name relative to the run directory; never absolute, never escaping it. */
const relPath = z
  .string()
  .min(1)
  .refine((p) => !/^[\\/]/.test(p) && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p) && !p.split(/[\\/]/).includes('..'), {
    message: 'artifact paths must be relative to the run directory (no leading slash, no scheme, no "..")',
  });

/** Metric values by name. fidelity and accuracy are fractions in [0, 1]; others are free-form numbers. */
export const metricsSchema = z
  .object({
    fidelity: z.number().min(0).max(1).optional(),
    accuracy: z.number().min(0).max(1).optional(),
  })
  .catchall(z.number());

export const roundRecordSchema = z.object({
  round: count,
  /** Cumulative paid attack queries at the end of this round. */
  queriesUsed: count,
  /** Rows in the labeled (bought) set after this round. */
  labeledRows: count,
  metrics: metricsSchema,
  fitMs: ms.optional(),
  wallMs: ms,
});

/** Command settings. Known keys are typed; anything else is kept as is. */
export const runConfigSchema = z.looseObject({
  target: z.string().optional(),
  budget: count.optional(),
  strategy: z.string().optional(),
  pool: z.string().optional(),
  arch: z.string().optional(),
  labels: z.string().optional(),
  targetFidelity: z.number().min(0).max(1).optional(),
  /** Price of one paid query; the report shows cost when present. */
  pricePerQuery: z.number().nonnegative().optional(),
  currency: z.string().optional(),
});

export const runTargetSchema = z
  .object({
    url: z.string().min(1).optional(),
    file: z.string().min(1).optional(),
    model: z.string().optional(),
    inputShape: z.array(z.number().int().positive()),
    classes: z.number().int().positive(),
    output: z.enum(['probs', 'logits', 'topk', 'label']),
  })
  .refine((t) => t.url !== undefined || t.file !== undefined, { message: 'target needs a url or a file' });

export const runQueriesSchema = z
  .object({ budget: count, used: count, cached: count, eval: count, total: count })
  .refine((q) => q.total === q.used + q.eval, { message: 'queries.total must equal queries.used + queries.eval' })
  .refine((q) => q.used <= q.budget, { message: 'queries.used exceeds queries.budget' });

/** A comparison line on the fidelity curve, e.g. a published or ART reference number. */
export const referenceSeriesSchema = z.object({
  name: z.string().min(1),
  metric: z.enum(['fidelity', 'accuracy']).optional(),
  points: z.array(z.object({ queries: count, value: z.number().min(0).max(1) })).min(1),
});

export const runRecordSchema = z.object({
  schema: z.literal(RUN_SCHEMA),
  id: z.string().min(1),
  kind: z.enum(['steal', 'extract', 'train', 'bench', 'verify', 'audit', 'scan']),
  heistVersion: z.string().min(1),
  startedAt: isoTime,
  finishedAt: isoTime,
  wallMs: ms,
  seed: z.number().int(),
  config: runConfigSchema,
  target: runTargetSchema,
  queries: runQueriesSchema,
  rounds: z.array(roundRecordSchema),
  metrics: metricsSchema,
  artifacts: z.object({ substitute: relPath.optional(), transcript: relPath.optional(), report: relPath.optional() }),
  references: z.array(referenceSeriesSchema).optional(),
  /** The class of attack a steal achieved (eval/attack-class.ts). */
  attackClass: z
    .object({
      name: z.enum(['functionally-equivalent', 'task-accuracy', 'approximation']),
      typicalFidelity: z.tuple([z.number(), z.number()]),
      reason: z.string(),
    })
    .optional(),
  /** Forensic findings (verify/audit); loosely typed until forensics/ fixes the Finding shape. */
  findings: z.array(z.record(z.string(), z.unknown())).optional(),
  notes: z.array(z.string()).optional(),
});

export type RunRecord = z.output<typeof runRecordSchema>;
export type RoundRecord = z.output<typeof roundRecordSchema>;
export type RunMetrics = z.output<typeof metricsSchema>;
export type RunConfig = z.output<typeof runConfigSchema>;
export type RunTarget = z.output<typeof runTargetSchema>;
export type ReferenceSeries = z.output<typeof referenceSeriesSchema>;
export type RunKind = RunRecord['kind'];

/**
 * Validate a run record. Accepts a parsed value or a JSON string.
 * Throws HeistError('HEIST_ERR_BAD_DATA') with the zod issues in `details`.
 */
export function parseRunRecord(json: unknown): RunRecord {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (cause) {
      throw new HeistError('HEIST_ERR_BAD_DATA', `run record is not valid JSON: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
  const res = runRecordSchema.safeParse(value);
  if (!res.success) {
    const first = res.error.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') : '(root)';
    throw new HeistError(
      'HEIST_ERR_BAD_DATA',
      `invalid ${RUN_SCHEMA} record at ${where}: ${first?.message ?? 'unknown issue'}`,
      {
        details: res.error.issues,
      },
    );
  }
  return res.data;
}

/** Validate and write DIR/run.json (creating DIR; write-then-rename so readers never see half a file). Returns the path. */
export async function writeRunRecord(dir: string, rec: RunRecord): Promise<string> {
  const valid = parseRunRecord(rec);
  await mkdir(dir, { recursive: true });
  const path = join(dir, RUN_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(valid, null, 2)}\n`, 'utf8');
  await rename(tmp, path);
  return path;
}

/** Read and validate a run.json. A missing or unreadable file is HEIST_ERR_BAD_DATA too. */
export async function readRunRecord(path: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new HeistError('HEIST_ERR_BAD_DATA', `cannot read run record ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseRunRecord(text);
}
