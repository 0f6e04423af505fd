/**
 * @file Fidelity-versus-queries curves on a standard scenario, over HTTP against the shipped victim
 * behind the gateway, with probabilities (Knockoff-style distillation) and with labels only
 * (Copycat-style), beside the reference numbers of docs/scenarios.md; optionally one kind, one
 * training engine, or a single fit at the budget.
 * Run alone: node --import tsx bench/curve.ts [scenario] [budget]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { modelsDir } from '../src/datasets/paths.js';
import { getScenario } from '../src/datasets/scenarios.js';
import { startGateway } from '../src/runs/serve-run.js';
import { runSteal } from '../src/runs/steal-run.js';

export interface CurveResult {
  scenario: string;
  budget: number;
  seed: number;
  curves: Record<string, { queries: number; fidelity: number; accuracy: number; fitMs: number }[]>;
  reference: Record<string, Record<number, number>>;
  wallMs: Record<string, number>;
}

export interface CurveOptions {
  /** Which curves (default both). */
  readonly labels?: readonly ('soft' | 'hard')[];
  /** Training engine (default: HEIST_TRAIN_ENGINE, else onnxruntime). */
  readonly engine?: string;
  /** false: one fit at the budget instead of one per checkpoint. */
  readonly checkpoints?: boolean;
}

export async function benchCurve(
  scenarioName = 'mnist-cnn',
  budget?: number,
  seed = 0,
  o: CurveOptions = {},
): Promise<CurveResult> {
  const scenario = getScenario(scenarioName);
  const b = budget ?? scenario.budgets[scenario.budgets.length - 1];
  const gw = await startGateway({ anonymous: true, models: [join(modelsDir, `${scenario.name}.onnx`)], port: 0 });
  const result: CurveResult = {
    scenario: scenario.name,
    budget: b,
    seed,
    curves: {},
    reference: { ...scenario.reference },
    wallMs: {},
  };
  try {
    for (const labels of o.labels ?? (['soft', 'hard'] as const)) {
      const out = mkdtempSync(join(tmpdir(), `heist-curve-${labels}-`));
      const checkpoints = o.checkpoints === false ? [b] : [...scenario.budgets.filter((q) => q < b), b];
      const rec = await runSteal({
        target: `${gw.url}/v1/models/${gw.modelNames[0]}`,
        budget: b,
        pool: scenario.name,
        labels,
        checkpoints,
        out,
        seed,
        ...(o.engine ? { engine: o.engine } : {}),
      });
      result.curves[labels] = rec.rounds.map((r) => ({
        queries: r.queriesUsed,
        fidelity: r.metrics.fidelity!,
        accuracy: r.metrics.accuracy!,
        fitMs: Math.round(r.fitMs ?? 0),
      }));
      result.wallMs[labels] = rec.wallMs;
      process.stdout.write(
        `${scenario.name} ${labels}: ${result.curves[labels].map((p) => `${p.queries}:${p.fidelity.toFixed(4)}`).join('  ')}  (${(rec.wallMs / 1000).toFixed(0)} s, report ${out}/report.html)\n`,
      );
    }
  } finally {
    await gw.close();
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchCurve(process.argv[2], process.argv[3] ? Number(process.argv[3]) : undefined);
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
