/**
 * @file `heist transfer` as a function: adversarial examples crafted on a stolen substitute (its
 * substitute.onnx, read back as a live differentiable network) and tried on the target. It buys the
 * target's labels for a seeded sample of evaluation rows, crafts FGSM and PGD examples on the
 * substitute against those labels at each ε, and the substitute-free baseline (random sign noise of
 * the same L∞ norm), buys the target's labels for every crafted row, and reports the share whose
 * label changed. Every paid answer goes to the transcript in --out before it is used; the number
 * of queries is known (and confirmed) before the first one.
 * @see attacks/transfer.ts for the methods and their papers.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type TransferMethod, craft, successRate } from '../attacks/transfer.js';
import { readNetworkOnnx } from '../backends/onnx-network.js';
import { HeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { rowCount, takeRows } from '../core/tensor.js';
import { createQueryClient } from '../query/client.js';
import { surrogateFromSpec } from '../surrogates/create.js';
import { type Confirm, costSummary } from './cost-summary.js';
import { resolveEval } from './data-sources.js';
import { clientSettings, oracleSettings, targetSettingsFields } from './target-settings.js';
import { resolveTarget } from './target.js';

const METHODS = ['fgsm', 'pgd', 'noise'] as const;

const settingsSchema = z
  .object({
    /** A steal's output folder (its substitute.onnx) or the .onnx file itself. */
    substitute: z.string().min(1),
    target: z.string().min(1),
    /** Rows to attack from: a scenario (its evaluation split) or a data set; default: the steal's --eval. */
    eval: z.string().min(1).optional(),
    rows: z.number().int().positive().default(500),
    epsilons: z.array(z.number().gt(0).max(1)).min(1).default([0.1, 0.2, 0.3]),
    methods: z
      .array(z.enum(METHODS))
      .min(1)
      .default([...METHODS]),
    steps: z.number().int().positive().max(1000).default(10),
    seed: z.number().int().nonnegative().default(0),
    concurrency: z.number().int().positive().max(64).default(4),
    headers: z.record(z.string(), z.string()).optional(),
    ...targetSettingsFields,
    out: z.string().min(1),
  })
  .strict();

export type TransferSettings = z.input<typeof settingsSchema>;

export interface TransferResult {
  readonly schema: 'heist.transfer/v1';
  readonly substitute: string;
  readonly target: string;
  readonly eval: string;
  readonly rows: number;
  /** The target's accuracy on the clean rows (where the data set has labels). */
  readonly cleanAccuracy?: number;
  readonly queries: number;
  readonly results: readonly { method: TransferMethod; epsilon: number; successRate: number }[];
}

function substituteFile(path: string): string {
  const p = resolve(path);
  const file = existsSync(p) && statSync(p).isDirectory() ? join(p, 'substitute.onnx') : p;
  if (!existsSync(file)) throw new HeistError('HEIST_ERR_BAD_CONFIG', `no substitute at ${file}`);
  return file;
}

/** The steal's evaluation set, from run.json beside the substitute. */
function evalOfRun(file: string): string | undefined {
  const run = join(file, '..', 'run.json');
  if (!existsSync(run)) return undefined;
  const rec = JSON.parse(readFileSync(run, 'utf8')) as { config?: { eval?: string } };
  return rec.config?.eval;
}

export async function runTransfer(input: unknown, hooks: { confirm?: Confirm } = {}): Promise<TransferResult> {
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `invalid transfer settings at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const s = parsed.data;
  const file = substituteFile(s.substitute);
  const evalName = s.eval ?? evalOfRun(file);
  if (!evalName) throw new HeistError('HEIST_ERR_BAD_CONFIG', 'no rows to attack from: pass --eval <scenario|dataset>');
  const spec = readNetworkOnnx(readFileSync(file), file);
  const data = resolveEval(evalName);
  const target = await resolveTarget(s.target, { headers: s.headers, ...oracleSettings(s) });
  const info = target.oracle.info;
  if (spec.inputShape.reduce((a, b) => a * b, 1) !== data.x.data.length / rowCount(data.x))
    throw new HeistError('HEIST_ERR_REQUIREMENTS', `the substitute takes [${spec.inputShape}], the rows do not fit`);
  const n = Math.min(s.rows, rowCount(data.x));
  const picked = createRng(s.seed)
    .fork('rows')
    .shuffle(Array.from({ length: rowCount(data.x) }, (_, i) => i));
  const chosen = picked.slice(0, n).sort((a, b) => a - b);
  const x = takeRows(data.x, chosen);
  const shaped = { data: x.data, shape: [n, ...info.inputShape] };
  const total = n * (1 + s.methods.length * s.epsilons.length);
  await hooks.confirm?.(
    costSummary({ kind: 'transfer', target: s.target, attackQueries: total, evalQueries: 0, warnings: [] }),
  );
  const out = resolve(s.out);
  mkdirSync(out, { recursive: true });
  const client = await createQueryClient(target.oracle, {
    budget: { attack: total, eval: 0 },
    transcriptPath: join(out, 'transcript.jsonl'),
    resume: false,
    concurrency: s.concurrency,
    ...clientSettings(s),
  });
  const substitute = await surrogateFromSpec(spec, { domain: info.domain });
  try {
    const clean = (await client.query(shaped, { purpose: 'attack' })).labels;
    const y = data.y ? Int32Array.from(chosen, (i) => data.y![i]) : undefined;
    const results: { method: TransferMethod; epsilon: number; successRate: number }[] = [];
    for (const epsilon of s.epsilons)
      for (const method of s.methods) {
        const adv = await craft(substitute, { data: x.data, shape: [n, ...spec.inputShape] }, clean, {
          method,
          epsilon,
          domain: info.domain,
          steps: s.steps,
          rng: createRng(s.seed).fork(`noise-${epsilon}`),
        });
        const after = (await client.query({ data: adv.data, shape: [n, ...info.inputShape] }, { purpose: 'attack' }))
          .labels;
        results.push({ method, epsilon, successRate: successRate(clean, after) });
      }
    const result: TransferResult = {
      schema: 'heist.transfer/v1',
      substitute: file,
      target: s.target,
      eval: evalName,
      rows: n,
      ...(y ? { cleanAccuracy: clean.filter((c, i) => c === y[i]).length / n } : {}),
      queries: total,
      results,
    };
    writeFileSync(join(out, 'transfer.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    substitute.dispose();
    await client.close();
  }
}
