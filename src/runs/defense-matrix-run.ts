/**
 * @file `heist bench defenses` as a function: every attack of defense-matrix-attacks.ts against every
 * configuration of a defense grid, each cell a seeded `runSteal` against the scenario's victim wrapped
 * in fresh defense stages in-process, measured against the UNDEFENDED victim. Each finished cell is
 * written at once (atomically) under <out>/cells/ and reused by the next run with the same settings;
 * at the end matrix.json, matrix.md and heatmap.svg are written. Nothing here prints: progress goes
 * to the hooks.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { type Prediction, type Predictor, toLabelOnly } from '../core/prediction.js';
import { rowCount, sliceRows } from '../core/tensor.js';
import { loadOnnxModel } from '../backends/onnx-model.js';
import { modelsDir, repoRoot } from '../datasets/paths.js';
import { getScenario, loadScenarioData } from '../datasets/scenarios.js';
import { createDefenses, defendPredictor, defenses, isDefenseRejection } from '../defenses/index.js';
import type { Flag } from '../defenses/types.js';
import { agreement } from '../eval/metrics.js';
import { localOracle } from '../oracle/local.js';
import type { Oracle } from '../oracle/types.js';
import { defenseHeatmapSpec } from '../report/plots/defense-heatmap.js';
import { renderSvg } from '../report/plots/render.js';
import { surrogates } from '../surrogates/index.js';
import { type GridConfig, benchDefenseDeps, defaultGridPath, readDefenseGrid } from './defense-grid.js';
import { type MatrixAttack, getMatrixAttack, matrixAttackNames, unavailableAttacks } from './defense-matrix-attacks.js';
import { registryName } from './registry-name.js';
import { runSteal } from './steal-run.js';
import { heistVersion } from './version.js';

export const MATRIX_SCHEMA = 'heist.defense-matrix/v1';
export const CELL_SCHEMA = 'heist.defense-matrix-cell/v1';
/** Rows per request, attacker and honest client alike: detection delay is counted in these steps. */
export const REQUEST_ROWS = 10;
/** The attack name of a configuration's honest-client cell file. */
const HONEST = 'honest';

const settingsSchema = z
  .object({
    scenario: z.string().min(1),
    budget: z.number().int().positive(),
    grid: z.string().min(1).optional(),
    out: z.string().min(1),
    seed: z.number().int().nonnegative().default(0),
    arch: registryName(surrogates).optional(),
    attacks: z.array(z.string().min(1)).min(1).optional(),
    /** Keep each cell's steal run folder (transcript, substitute, report) under <out>/runs/. */
    keepRuns: z.boolean().default(false),
  })
  .strict();

export type DefenseMatrixSettings = z.input<typeof settingsSchema>;

/** What makes a cell's numbers: a cell file is reused only when its key equals the wanted one. */
export interface CellKey {
  readonly scenario: string;
  readonly budget: number;
  readonly seed: number;
  readonly arch: string | null;
  readonly config: GridConfig;
  readonly attack: string;
}

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

export interface MatrixCell extends AttackCellResult {
  readonly config: string;
  readonly attack: string;
  readonly wallMs: number;
}

export interface MatrixConfigRow extends HonestResult {
  readonly name: string;
  readonly defenses: GridConfig['defenses'];
}

export interface DefenseMatrix {
  readonly schema: typeof MATRIX_SCHEMA;
  readonly heistVersion: string;
  readonly settings: {
    readonly scenario: string;
    readonly budget: number;
    readonly seed: number;
    readonly arch: string | null;
    readonly grid: string;
    readonly attacks: readonly string[];
    readonly requestRows: number;
  };
  /** The undefended victim's accuracy on the evaluation split. */
  readonly victimAccuracy: number;
  readonly configs: readonly MatrixConfigRow[];
  readonly cells: readonly MatrixCell[];
  readonly unavailableAttacks: typeof unavailableAttacks;
}

export interface CellEvent {
  readonly cell: MatrixCell;
  /** Cells finished so far (this one included) and in all. */
  readonly done: number;
  readonly total: number;
  /** True when the cell came from its file, not computed. */
  readonly resumed: boolean;
}

export interface DefenseMatrixHooks {
  /** Before the first cell: how many cells in all and how many come from files. */
  onStart?(e: { readonly total: number; readonly resumed: number; readonly out: string }): void;
  onCell?(e: CellEvent): void;
}

export interface DefenseMatrixResult {
  readonly matrix: DefenseMatrix;
  readonly out: string;
  readonly files: { readonly json: string; readonly markdown: string; readonly heatmap: string };
  /** Attack cells reused from their files. */
  readonly resumed: number;
  readonly computed: number;
}

interface CellFile<R> {
  readonly schema: typeof CELL_SCHEMA;
  readonly key: CellKey;
  readonly result: R;
  readonly wallMs: number;
}

/** JSON with object keys sorted: keys compare equal whatever order a grid file wrote options in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** A path inside the repository relative to its root (no machine's folder names in committed results). */
function shownPath(path: string): string {
  const r = relative(repoRoot, path);
  return r.startsWith('..') || isAbsolute(r) ? path : r;
}

function removeIfEmpty(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}

const cellFileName = (config: string, attack: string): string => `${config}__${attack}.json`;

function parseSettings(input: unknown): z.output<typeof settingsSchema> {
  const r = settingsSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `invalid bench settings at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  return r.data;
}

/**
 * Every cell file already in the folder must have been computed with these scenario, budget, seed
 * and arch (else HEIST_ERR_RESUME: another run's numbers would be mixed in).
 */
function checkCellFolder(cellsDir: string, wanted: Pick<CellKey, 'scenario' | 'budget' | 'seed' | 'arch'>): void {
  if (!existsSync(cellsDir)) return;
  for (const f of readdirSync(cellsDir).filter((n) => n.endsWith('.json'))) {
    const key = readCell(join(cellsDir, f))?.key;
    if (!key) continue;
    for (const k of ['scenario', 'budget', 'seed', 'arch'] as const) {
      if (key[k] !== wanted[k])
        throw new HeistError(
          'HEIST_ERR_RESUME',
          `${join(cellsDir, f)} was computed with ${k} ${JSON.stringify(key[k])}, not ${JSON.stringify(wanted[k])}: ` +
            'use another --out, or delete that folder',
        );
    }
  }
}

function readCell<R>(path: string): CellFile<R> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as CellFile<R>;
    return c.schema === CELL_SCHEMA ? c : undefined;
  } catch {
    return undefined; // a torn or foreign file: recomputed (writes are atomic, so only a foreign one)
  }
}

/** The cell's stored result when its key matches; HEIST_ERR_RESUME when the file holds another cell. */
function reuse<R>(path: string, key: CellKey): CellFile<R> | undefined {
  const c = readCell<R>(path);
  if (!c) return undefined;
  if (canonical(c.key) !== canonical(key))
    throw new HeistError(
      'HEIST_ERR_RESUME',
      `${path} holds configuration "${key.config.name}" with other defenses or options than the grid's: ` +
        'use another --out, or delete that file',
    );
  return c;
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

interface Shared {
  readonly settings: z.output<typeof settingsSchema>;
  readonly out: string;
  readonly victim: Predictor;
  readonly evaluation: ReturnType<typeof loadScenarioData>['evaluation'];
  /** The undefended victim's answers on the evaluation split. */
  readonly plain: Prediction;
}

async function attackCell(s: Shared, config: GridConfig, attack: MatrixAttack): Promise<AttackCellResult> {
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
          checkpoints: [budget],
          strategy: attack.strategy,
          ...(attack.strategy === 'pool' ? { pool: scenario } : {}),
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

async function honestCell(s: Shared, config: GridConfig): Promise<HonestResult> {
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
    changesLabels: config.defenses.some((d) => defenses.get(d.name).changesLabels),
    rejectedRows: rejected,
    honestFlaggedAfter: counter.first?.rows ?? null,
  };
}

const num = (v: number | null, digits = 3): string => (v === null ? 'n/a' : v.toFixed(digits));

/** The markdown table: one row per configuration; per attack fidelity / accuracy / detection delay. */
export function matrixMarkdown(m: DefenseMatrix): string {
  const { scenario, budget, seed, arch, attacks } = m.settings;
  const head = [
    'config',
    'honest acc',
    'top-1 kept',
    'L1',
    'changes labels',
    'honest flagged',
    ...attacks.flatMap((a) => [`${a} fidelity`, `${a} acc`, `${a} delay`]),
  ];
  const lines = [
    `# Defense matrix: ${scenario}, ${budget} attacker queries, seed ${seed}${arch ? `, arch ${arch}` : ''}`,
    '',
    `Undefended victim accuracy on the evaluation split: ${m.victimAccuracy.toFixed(3)}. Fidelity is the clone's`,
    "top-1 agreement with the undefended victim; accuracy is against the true labels; delay is the attacker's",
    `rows up to the first detector flag (requests of ${m.settings.requestRows} rows), or never. See docs/defense-matrix.md.`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ];
  for (const c of m.configs) {
    const cells = attacks.flatMap((a) => {
      const cell = m.cells.find((x) => x.config === c.name && x.attack === a);
      if (!cell) return ['', '', ''];
      const hard = cell.labels === 'hard' && getMatrixAttack(a).labels === 'soft' ? ' (hard)' : '';
      return [
        `${num(cell.fidelity)}${hard}`,
        num(cell.accuracy),
        cell.error ? `failed: ${cell.error.split(':')[0]}` : (cell.detectionDelay?.toString() ?? 'never'),
      ];
    });
    lines.push(
      `| ${[c.name, num(c.honestAccuracy), num(c.top1Kept), num(c.meanL1), c.changesLabels ? 'yes' : 'no', c.honestFlaggedAfter?.toString() ?? 'never', ...cells].join(' | ')} |`,
    );
  }
  lines.push('', '(hard): a soft-label attack that had to train on labels, the configuration serving labels only.');
  lines.push(
    `Not available: ${unavailableAttacks.map((a) => `${a.name} (${a.why})`).join('; ')}.`,
    '',
    ...m.configs.map(
      (c) =>
        `- \`${c.name}\`: ${c.defenses.length === 0 ? 'no defenses' : c.defenses.map((d) => `${d.name} ${JSON.stringify(d.options ?? {})}`).join(' -> ')}`,
    ),
  );
  return `${lines.join('\n')}\n`;
}

export async function runDefenseMatrix(
  input: DefenseMatrixSettings,
  hooks: DefenseMatrixHooks = {},
): Promise<DefenseMatrixResult> {
  const settings = parseSettings(input);
  const scenario = getScenario(settings.scenario);
  const attacks = (settings.attacks ?? matrixAttackNames()).map(getMatrixAttack);
  const gridPath = resolve(settings.grid ?? defaultGridPath);
  const grid = readDefenseGrid(gridPath);
  const out = resolve(settings.out);
  const cellsDir = join(out, 'cells');
  const base = {
    scenario: scenario.name,
    budget: settings.budget,
    seed: settings.seed,
    arch: settings.arch ?? null,
  };
  checkCellFolder(cellsDir, base);
  mkdirSync(cellsDir, { recursive: true });

  const data = loadScenarioData(scenario.name);
  const victim = await loadOnnxModel(join(modelsDir, `${scenario.name}.onnx`));
  try {
    const plain = await victim.predict(data.evaluation.x);
    if (!plain.scores)
      throw new HeistError('HEIST_ERR_BAD_MODEL', `the ${scenario.name} victim answers no probabilities`);
    const shared: Shared = { settings, out, victim, evaluation: data.evaluation, plain };

    const total = grid.configs.length * attacks.length;
    const keyOf = (config: GridConfig, attack: string): CellKey => ({ ...base, config, attack });
    const pathOf = (config: GridConfig, attack: string): string => join(cellsDir, cellFileName(config.name, attack));
    const stored = new Map<string, CellFile<AttackCellResult>>();
    for (const c of grid.configs)
      for (const a of attacks) {
        const f = reuse<AttackCellResult>(pathOf(c, a.name), keyOf(c, a.name));
        if (f) stored.set(cellFileName(c.name, a.name), f);
      }
    hooks.onStart?.({ total, resumed: stored.size, out });

    const configs: MatrixConfigRow[] = [];
    const cells: MatrixCell[] = [];
    let done = 0;
    for (const config of grid.configs) {
      const honestKey = keyOf(config, HONEST);
      let honest = reuse<HonestResult>(pathOf(config, HONEST), honestKey)?.result;
      if (!honest) {
        const t0 = performance.now();
        honest = await honestCell(shared, config);
        const file: CellFile<HonestResult> = {
          schema: CELL_SCHEMA,
          key: honestKey,
          result: honest,
          wallMs: Math.round(performance.now() - t0),
        };
        writeAtomic(pathOf(config, HONEST), `${JSON.stringify(file, null, 2)}\n`);
      }
      configs.push({ name: config.name, defenses: config.defenses, ...honest });
      for (const attack of attacks) {
        let file = stored.get(cellFileName(config.name, attack.name));
        const resumed = file !== undefined;
        if (!file) {
          const t0 = performance.now();
          const result = await attackCell(shared, config, attack);
          file = {
            schema: CELL_SCHEMA,
            key: keyOf(config, attack.name),
            result,
            wallMs: Math.round(performance.now() - t0),
          };
          writeAtomic(pathOf(config, attack.name), `${JSON.stringify(file, null, 2)}\n`);
        }
        const cell: MatrixCell = { config: config.name, attack: attack.name, ...file.result, wallMs: file.wallMs };
        cells.push(cell);
        hooks.onCell?.({ cell, done: ++done, total, resumed });
      }
    }

    const matrix: DefenseMatrix = {
      schema: MATRIX_SCHEMA,
      heistVersion,
      settings: {
        ...base,
        grid: shownPath(gridPath),
        attacks: attacks.map((a) => a.name),
        requestRows: REQUEST_ROWS,
      },
      victimAccuracy: agreement(data.evaluation.y!, plain.labels),
      configs,
      cells,
      unavailableAttacks,
    };
    const files = {
      json: join(out, 'matrix.json'),
      markdown: join(out, 'matrix.md'),
      heatmap: join(out, 'heatmap.svg'),
    };
    writeAtomic(files.json, `${JSON.stringify(matrix, null, 2)}\n`);
    writeAtomic(files.markdown, matrixMarkdown(matrix));
    const svg = await renderSvg(
      defenseHeatmapSpec({
        title: `${scenario.name}: attacker fidelity at ${settings.budget} queries (seed ${settings.seed})`,
        configs: configs.map((c) => c.name),
        attacks: attacks.map((a) => a.name),
        cells: cells.map((c) => ({ config: c.config, attack: c.attack, fidelity: c.fidelity ?? undefined })),
      }),
    );
    writeAtomic(files.heatmap, svg);
    if (!settings.keepRuns) removeIfEmpty(join(out, 'runs'));
    return { matrix, out, files, resumed: stored.size, computed: total - stored.size };
  } finally {
    await victim.close();
  }
}
