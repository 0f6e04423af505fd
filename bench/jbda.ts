/**
 * @file Papernot et al.'s black-box attack on mnist-cnn, end to end: the jbda-papernot-2017 recipe
 * (150 natural seeds from the scenario's pool, doubled each round by Jacobian-based augmentation,
 * labels only) up to 4,650 paid queries against the shipped victim; then FGSM and PGD examples
 * crafted on the substitute from the evaluation rows the victim labels correctly, at ε = 0.1, 0.2
 * and 0.3, each tried on the victim beside the substitute-free baseline of random sign noise with
 * the same L∞ norm. Success = the victim's label changes. Three variants on the same queries'
 * budget: the recipe as the paper has it, the same with `--ensemble 5` (five substitutes, their
 * logits averaged: Liu et al., ICLR 2017, found examples crafted on an ensemble transfer far more
 * often), and that with the longer Jacobian step λ = 0.3. Median over seeds of nothing: one seed,
 * the numbers are a pure function of it.
 * Run alone: node --import tsx bench/jbda.ts [seed]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { craft, successRate, type TransferMethod } from '../src/attacks/transfer.js';
import { loadOnnxModel } from '../src/backends/onnx-model.js';
import { createRng } from '../src/core/rng.js';
import { rowCount, takeRows } from '../src/core/tensor.js';
import { modelsDir } from '../src/datasets/paths.js';
import { loadScenarioData } from '../src/datasets/scenarios.js';
import { runSteal } from '../src/runs/steal-run.js';

const BUDGET = 4650;
const EPSILONS = [0.1, 0.2, 0.3];
const METHODS: TransferMethod[] = ['fgsm', 'pgd', 'noise'];

interface Variant {
  readonly name: string;
  readonly ensemble?: number;
  readonly recipeOptions?: Record<string, unknown>;
}

const VARIANTS: Variant[] = [
  { name: 'paper' },
  { name: 'ensemble 5', ensemble: 5 },
  { name: 'ensemble 5, lambda 0.3', ensemble: 5, recipeOptions: { lambda: 0.3 } },
];

export async function benchJbda(seed = 0): Promise<Record<string, unknown>> {
  const variants: Record<string, unknown>[] = [];
  for (const v of VARIANTS) {
    process.stderr.write(`jbda: ${v.name}\n`);
    variants.push({ variant: v.name, ...(await jbdaVariant(seed, v)) });
  }
  return { scenario: 'mnist-cnn', recipe: 'jbda-papernot-2017', seed, budget: BUDGET, variants };
}

async function jbdaVariant(seed: number, v: Variant): Promise<Record<string, unknown>> {
  const victimPath = join(modelsDir, 'mnist-cnn.onnx');
  const victim = await loadOnnxModel(victimPath);
  const data = loadScenarioData('mnist-cnn');
  const out = mkdtempSync(join(tmpdir(), 'heist-bench-jbda-'));
  const transfer: { method: TransferMethod; epsilon: number; successRate: number }[] = [];
  let rows = 0;
  try {
    // The evaluation rows the victim gets right: adversarial examples start from correct answers.
    const evalX = { ...data.evaluation.x, shape: [rowCount(data.evaluation.x), ...victim.info.inputShape] };
    const before = (await victim.predict(evalX)).labels;
    const correct = Array.from(before.keys()).filter((i) => before[i] === data.evaluation.y![i]);
    const x = takeRows(evalX, correct);
    const labels = Int32Array.from(correct, (i) => before[i]);
    rows = correct.length;
    const rec = await runSteal(
      {
        target: victimPath,
        pool: 'mnist-cnn',
        recipe: 'jbda-papernot-2017',
        ...(v.recipeOptions ? { recipeOptions: v.recipeOptions } : {}),
        ...(v.ensemble ? { ensemble: v.ensemble } : {}),
        budget: BUDGET,
        seed,
        out,
      },
      {
        async onSubstitute(substitute) {
          for (const epsilon of EPSILONS)
            for (const method of METHODS) {
              const adv = await craft(substitute, x, labels, {
                method,
                epsilon,
                domain: victim.info.domain,
                rng: createRng(seed).fork(`noise-${epsilon}`),
              });
              const after = (await victim.predict(adv)).labels;
              transfer.push({ method, epsilon, successRate: successRate(labels, after) });
              process.stderr.write(`  ${method} eps ${epsilon}: ${(successRate(labels, after) * 100).toFixed(1)}%\n`);
            }
        },
      },
    );
    return {
      rounds: rec.rounds.map((r) => ({
        queries: r.queriesUsed,
        accuracy: r.metrics.accuracy,
        fidelity: r.metrics.fidelity,
      })),
      queriesUsed: rec.queries.used,
      substituteAccuracy: rec.metrics.accuracy,
      fidelity: rec.metrics.fidelity,
      transferRows: rows,
      transfer,
      wallMs: rec.wallMs,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
    await victim.close();
  }
}

export function jbdaTable(all: Record<string, unknown>): string {
  return (all.variants as Record<string, unknown>[]).map((r) => variantTable(all.seed as number, r)).join('\n\n');
}

function variantTable(seed: number, r: Record<string, unknown>): string {
  const t = r.transfer as { method: string; epsilon: number; successRate: number }[];
  const lines = [
    `JBDA on mnist-cnn (seed ${seed}, ${r.variant}): ${r.queriesUsed} queries, substitute accuracy ${(r.substituteAccuracy as number).toFixed(4)}, fidelity ${(r.fidelity as number).toFixed(4)}`,
    `rounds: ${(r.rounds as { queries: number; accuracy: number }[]).map((x) => `${x.queries}:${x.accuracy.toFixed(4)}`).join('  ')}`,
    `transfer to the victim (${r.transferRows} rows it labels correctly), share whose label changes:`,
    `${'eps'.padEnd(6)}${METHODS.map((m) => m.padStart(10)).join('')}`,
  ];
  for (const e of EPSILONS)
    lines.push(
      `${String(e).padEnd(6)}${METHODS.map((m) => `${((t.find((x) => x.method === m && x.epsilon === e)?.successRate ?? Number.NaN) * 100).toFixed(1)}%`.padStart(10)).join('')}`,
    );
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchJbda(process.argv[2] ? Number(process.argv[2]) : 0);
  process.stdout.write(`${jbdaTable(r)}\n`);
}
