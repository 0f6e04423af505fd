/**
 * @file What serving an ensemble (src/models/ensemble.ts) changes for attackers, and at what
 * latency: digits-mlp's shipped victim plus two more members trained on the same victim split with
 * other seeds and widths, served alone, averaged and voted. For each: honest accuracy on the
 * evaluation split; Heist's soft-label (Knockoff-style) and hard-label (Copycat-style) pool attacks
 * at the scenario's largest budget, 3 seeds each (median), their clones' fidelity to what was
 * served and accuracy on the true labels; and in-process latency at batch 1 and 256 (median of 5
 * repetitions, each the mean over a burst of calls), as a ratio to the single model measured in the
 * same run, interleaved so that drift on a shared machine hits every configuration.
 * Run alone: node --import tsx bench/ensemble.ts
 * @see L. Kariyappa, A. Prakash, M. Qureshi, "Protecting DNNs from Theft using an Ensemble of Diverse Models", ICLR 2021.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadOnnxModel } from '../src/backends/onnx-model.js';
import type { Predictor } from '../src/core/prediction.js';
import { type Tensor, sliceRows } from '../src/core/tensor.js';
import { modelsDir } from '../src/datasets/paths.js';
import { getScenario, loadScenarioData } from '../src/datasets/scenarios.js';
import { ensemblePredictor } from '../src/models/ensemble.js';
import { localOracle } from '../src/oracle/local.js';
import { runSteal } from '../src/runs/steal-run.js';
import { runTrain } from '../src/runs/train-run.js';
import { median, round } from './gateway-child.js';
import { writeBenchResult } from './results-file.js';

const SCENARIO = 'digits-mlp';
const SEEDS = [0, 1, 2];
const REPS = 5;
const BURST: Record<number, number> = { 1: 400, 256: 40 };

interface ConfigResult {
  honestAccuracy: number;
  soft: { fidelity: number; accuracy: number; runs: number[] };
  hard: { fidelity: number; accuracy: number; runs: number[] };
  latencyMs: Record<string, number>;
}

async function meanCallMs(p: Predictor, x: Tensor, calls: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < calls; i++) await p.predict(x);
  return (performance.now() - t) / calls;
}

export async function benchEnsemble(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'heist-ensemble-'));
  try {
    const scenario = getScenario(SCENARIO);
    const budget = scenario.budgets[scenario.budgets.length - 1];
    const data = loadScenarioData(SCENARIO);
    const shipped = await loadOnnxModel(join(modelsDir, `${SCENARIO}.onnx`));
    const trained = [];
    for (const [i, hidden] of [[64], [32, 32]].entries()) {
      const out = join(dir, `member-${i + 1}.onnx`);
      const r = await runTrain({ scenario: SCENARIO, hidden, seed: i + 1, out });
      trained.push({ hidden, testAccuracy: round(r.testAccuracy, 4), model: await loadOnnxModel(out) });
    }
    const members = [shipped, ...trained.map((t) => t.model)];
    const configs: Record<string, Predictor> = {
      single: shipped,
      average: ensemblePredictor('digits-average', members, 'average'),
      vote: ensemblePredictor('digits-vote', members, 'vote'),
    };
    const { x, y } = data.evaluation;
    const results: Record<string, ConfigResult> = {};
    for (const [name, p] of Object.entries(configs)) {
      const labels = (await p.predict(x)).labels;
      let ok = 0;
      for (let i = 0; i < labels.length; i++) if (labels[i] === y![i]) ok++;
      const attack = async (labelsKind: 'soft' | 'hard') => {
        const runs: { fidelity: number; accuracy: number }[] = [];
        for (const seed of SEEDS) {
          const rec = await runSteal(
            {
              target: `${SCENARIO} (${name})`,
              budget,
              pool: SCENARIO,
              checkpoints: [budget],
              labels: p.info.output === 'label' ? 'hard' : labelsKind,
              seed,
              out: join(dir, `${name}-${labelsKind}-${seed}`),
            },
            { oracle: localOracle(p) },
          );
          runs.push({ fidelity: rec.metrics.fidelity!, accuracy: rec.metrics.accuracy! });
        }
        return {
          fidelity: round(median(runs.map((r) => r.fidelity)), 4),
          accuracy: round(median(runs.map((r) => r.accuracy)), 4),
          runs: runs.map((r) => round(r.fidelity, 4)),
        };
      };
      results[name] = {
        honestAccuracy: round(ok / labels.length, 4),
        soft: await attack('soft'),
        hard: await attack('hard'),
        latencyMs: {},
      };
    }
    // Latency, interleaved per repetition.
    const samples: Record<string, number[]> = {};
    for (let rep = 0; rep < REPS; rep++)
      for (const batch of [1, 256])
        for (const [name, p] of Object.entries(configs)) {
          const xb = sliceRows(x, 0, batch);
          const ms = await meanCallMs(p, xb, BURST[batch]);
          const id = `${name}@${batch}`;
          samples[id] = [...(samples[id] ?? []), ms];
        }
    for (const name of Object.keys(configs))
      for (const batch of [1, 256])
        results[name].latencyMs[`batch${batch}`] = round(median(samples[`${name}@${batch}`]), 4);
    const ratio = (name: string, batch: number) =>
      round(results[name].latencyMs[`batch${batch}`] / results.single.latencyMs[`batch${batch}`], 3);
    return {
      scenario: SCENARIO,
      budget,
      seeds: SEEDS,
      members: [
        { model: `models/${SCENARIO}.onnx`, hidden: [32] },
        ...trained.map((t, i) => ({
          model: `trained here: hidden ${t.hidden.join('-')}, seed ${i + 1}`,
          testAccuracy: t.testAccuracy,
        })),
      ],
      results,
      latencyOverSingle: {
        average_batch1: ratio('average', 1),
        average_batch256: ratio('average', 256),
        vote_batch1: ratio('vote', 1),
        vote_batch256: ratio('vote', 256),
      },
      notes: [
        'fidelity is agreement with what the configuration served (the ensemble), on the evaluation split; accuracy is on the true labels',
        'a voted ensemble answers labels only, so its soft-label attack trains on labels',
        'latency: in-process predict (onnxruntime, members run one after another on the event loop), no HTTP',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function ensembleTable(r: Record<string, unknown>): string {
  const results = r.results as Record<string, ConfigResult>;
  const lines = ['config     honest   soft fid/acc     hard fid/acc     batch1 ms  batch256 ms'];
  for (const [name, c] of Object.entries(results))
    lines.push(
      `${name.padEnd(10)} ${c.honestAccuracy.toFixed(3).padStart(6)}   ${c.soft.fidelity.toFixed(3)}/${c.soft.accuracy.toFixed(3)}      ${c.hard.fidelity.toFixed(3)}/${c.hard.accuracy.toFixed(3)}      ${String(c.latencyMs.batch1).padStart(8)}  ${String(c.latencyMs.batch256).padStart(10)}`,
    );
  lines.push(`latency over single: ${JSON.stringify(r.latencyOverSingle)}`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchEnsemble();
  process.stdout.write(`${ensembleTable(r)}\nwrote ${writeBenchResult('ensemble', r)}\n`);
}
