/**
 * @file Measuring one cell of the defense matrix: an attack cell is a seeded `runSteal` through fresh
 * defense stages, its clone scored against the UNDEFENDED victim; the honest pass sends the evaluation
 * split through a separate client of the same configuration and measures what honest users lose.
 * Requests are REQUEST_ROWS rows on a clock that ticks once per request, so the numbers reproduce.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { HeistError } from '../core/errors.js';
import { type Prediction, type Predictor, toLabelOnly } from '../core/prediction.js';
import { rowCount, sliceRows } from '../core/tensor.js';
import { loadOnnxModel } from '../backends/onnx-model.js';
import type { loadScenarioData } from '../datasets/scenarios.js';
import { createDefenses, defendPredictor, isDefenseRejection, stageChangesLabels } from '../defenses/index.js';
import type { Flag } from '../defenses/types.js';
import { agreement } from '../eval/metrics.js';
import { localOracle } from '../oracle/local.js';
import type { Oracle } from '../oracle/types.js';
import { type GridConfig, benchDefenseDeps } from './defense-grid.js';
import type { MatrixAttack } from './defense-matrix-attacks.js';
import { runSteal } from './steal-run.js';

/** Rows per request, attacker and honest client alike: detection delay is counted in these steps. */
export const REQUEST_ROWS = 10;

export interface AttackCellResult {
  /** Substitute vs the undefended victim's top-1 on the evaluation split; null when the steal failed. */
  readonly fidelity: number | null;
  /** Substitute vs the true labels of the evaluation split. */
  readonly accuracy: number | null;
  /** What the substitute trained on (soft falls back to hard against a label-only configuration). */
  readonly labels: 'soft' | 'hard';
  /** Attacker rows the defended model saw (all of the budget unless the steal failed). */
  readonly queries: number;
  /** Attacker rows sent up to and including the first request a detector flagged; null: never. */
  readonly detectionDelay: number | null;
  readonly detectedBy: string | null;
  /** The HeistError that ended the steal (e.g. a blocking detector), when it failed. */
  readonly error?: string;
}

export interface HonestResult {
  /** Served top-1 vs the true labels, evaluation split, through a separate honest client. */
  readonly honestAccuracy: number;
  /** Share of evaluation rows whose served top-1 equals the undefended model's. */
  readonly top1Kept: number;
  /** Mean L1 distance between served and undefended probability vectors (labels count as one-hot). */
  readonly meanL1: number;
  /** The registry's promise: some stage of the configuration may change a top-1 label. */
  readonly changesLabels: boolean;
  /** Honest rows refused by a stage (counted wrong, served as all-zero vectors). */
  readonly rejectedRows: number;
  /** Honest rows up to the first flag on the honest client (a false positive); null: never. */
  readonly honestFlaggedAfter: number | null;
}

/** What every cell of one matrix run shares: the parsed settings, the victim and its plain answers. */
export interface Shared {
  /** The parts of the bench settings (defense-matrix-run.ts) a cell reads. */
  readonly settings: {
    readonly scenario: string;
    readonly budget: number;
    readonly seed: number;
    readonly arch?: string | undefined;
    readonly keepRuns: boolean;
  };
  readonly out: string;
  readonly victim: Predictor;
  readonly evaluation: ReturnType<typeof loadScenarioData>['evaluation'];
  /** The undefended victim's answers on the evaluation split. */
  readonly plain: Prediction;
}

/** A clock that ticks once per request: reproducible request times. */
function tickClock(): { now(): number } {
  let t = 0;
  return { now: () => ++t };
}

/** Counts rows per request and remembers the first flagged one. */
function flagCounter(): {
  onFlags: (flags: readonly Flag[], rows: number) => void;
  readonly first: { rows: number; stage: string } | undefined;
  readonly rows: number;
} {
  let rows = 0;
  let first: { rows: number; stage: string } | undefined;
  return {
    onFlags(flags, n) {
      rows += n;
      if (first === undefined && flags.length > 0) first = { rows, stage: flags[0].stage };
    },
    get first() {
      return first;
    },
    get rows() {
      return rows;
    },
  };
}

/**
 * The attacker's oracle: attack rows go through the defended model; the evaluation rows runSteal buys
 * go to the undefended victim, so that they neither feed the detectors nor count towards detection
 * delay (the run's own fidelity is then also against the undefended labels).
 */
function attackerOracle(defended: Predictor, victim: Predictor): Oracle {
  const attack = localOracle(defended);
  const evaluation = localOracle(victim);
  const labelOnly = attack.info.output === 'label';
  return {
    info: attack.info,
    maxBatch: REQUEST_ROWS,
    async query(x, opts = {}) {
      if (opts.purpose !== 'eval') return attack.query(x, opts);
      const p = await evaluation.query(x, opts);
      return labelOnly ? toLabelOnly(p) : p;
    },
  };
}

export async function attackCell(s: Shared, config: GridConfig, attack: MatrixAttack): Promise<AttackCellResult> {
  const runDir = join(s.out, 'runs', `${config.name}__${attack.name}`);
  rmSync(runDir, { recursive: true, force: true }); // an interrupted cell starts over
  const counter = flagCounter();
  const defended = defendPredictor(s.victim, createDefenses(config.defenses, benchDefenseDeps()), {
    apiKey: 'attacker',
    clock: tickClock(),
    onFlags: counter.onFlags,
  });
  const labels = attack.labels === 'soft' && defended.info.output === 'label' ? 'hard' : attack.labels;
  const { scenario, budget, seed, arch } = s.settings;
  try {
    let queries = 0;
    let error: string | undefined;
    try {
      const record = await runSteal(
        {
          target: `${scenario} behind "${config.name}"`,
          budget,
          ...('recipe' in attack.steal
            ? { recipe: attack.steal.recipe }
            : // The one-round attacks train as Knockoff Nets and Copycat CNN publish them: on the
              // answers as served (temperature 1, no label smoothing), not Heist's softened defaults.
              { strategy: attack.steal.strategy, checkpoints: [budget], temperature: 1, labelSmoothing: 0 }),
          ...(attack.pool ? { pool: scenario } : {}),
          eval: scenario,
          ...(arch !== undefined ? { arch } : {}),
          labels,
          seed,
          concurrency: 1, // detectors are stateful: one request at a time, in a fixed order
          out: runDir,
        },
        { oracle: attackerOracle(defended, s.victim) },
      );
      queries = record.queries.used;
    } catch (e) {
      if (!(e instanceof HeistError)) throw e;
      error = `${e.code}: ${e.message}`;
      queries = counter.rows; // what the defended API answered or refused before the steal stopped
    }
    const first = counter.first;
    const detection = { detectionDelay: first?.rows ?? null, detectedBy: first?.stage ?? null };
    if (error !== undefined) return { fidelity: null, accuracy: null, labels, queries, ...detection, error };
    const substitute = await loadOnnxModel(join(runDir, 'substitute.onnx'));
    try {
      const pred = await substitute.predict(s.evaluation.x);
      return {
        fidelity: agreement(s.plain.labels, pred.labels),
        accuracy: agreement(s.evaluation.y!, pred.labels),
        labels,
        queries,
        ...detection,
      };
    } finally {
      await substitute.close();
    }
  } finally {
    await defended.close();
    if (!s.settings.keepRuns) rmSync(runDir, { recursive: true, force: true });
  }
}

/** The served probability vector of row i: scores when served, else one-hot of the label. */
function servedVector(p: Prediction, i: number, classes: number): Float32Array {
  if (p.scores) return p.scores.data.subarray(i * classes, (i + 1) * classes) as Float32Array;
  const v = new Float32Array(classes);
  const label = p.labels[i];
  if (label >= 0 && label < classes) v[label] = 1;
  return v;
}

export async function honestCell(s: Shared, config: GridConfig): Promise<HonestResult> {
  const counter = flagCounter();
  const honest = defendPredictor(s.victim, createDefenses(config.defenses, benchDefenseDeps()), {
    apiKey: 'honest',
    clock: tickClock(),
    onFlags: counter.onFlags,
  });
  const { x, y } = s.evaluation;
  const n = rowCount(x);
  const classes = s.victim.info.classes;
  const plainScores = s.plain.scores!.data;
  let correct = 0;
  let kept = 0;
  let l1 = 0;
  let rejected = 0;
  try {
    for (let start = 0; start < n; start += REQUEST_ROWS) {
      const end = Math.min(n, start + REQUEST_ROWS);
      let served: Prediction | undefined;
      try {
        served = await honest.predict(sliceRows(x, start, end));
      } catch (e) {
        if (!isDefenseRejection(e)) throw e;
      }
      for (let i = start; i < end; i++) {
        const truth = plainScores.subarray(i * classes, (i + 1) * classes);
        if (!served) {
          rejected++;
          l1 += 1; // nothing served: |0 - p| sums to 1
          continue;
        }
        const label = served.labels[i - start];
        if (label === y![i]) correct++;
        if (label === s.plain.labels[i]) kept++;
        const v = servedVector(served, i - start, classes);
        for (let k = 0; k < classes; k++) l1 += Math.abs(v[k] - truth[k]);
      }
    }
  } finally {
    await honest.close();
  }
  return {
    honestAccuracy: correct / n,
    top1Kept: kept / n,
    meanL1: l1 / n,
    changesLabels: config.defenses.some((d) => stageChangesLabels(d)),
    rejectedRows: rejected,
    honestFlaggedAfter: counter.first?.rows ?? null,
  };
}
