/**
 * @file `heist bench defenses` as a function: every attack of defense-matrix-attacks.ts against every
 * configuration of a defense grid, each cell a seeded `runSteal` against the scenario's victim wrapped
 * in fresh defense stages in-process, measured against the UNDEFENDED victim (defense-matrix-measure.ts).
 * Each finished cell is written at once (atomically) under <out>/cells/ and reused by the next run with
 * the same settings (defense-matrix-cells.ts); at the end matrix.json, matrix.md (defense-matrix-table.ts)
 * and heatmap.svg are written. Nothing here prints: progress goes to the hooks.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { loadOnnxModel } from '../backends/onnx-model.js';
import { repoRoot } from '../datasets/paths.js';
import { getScenario, loadScenarioData, victimModelPath } from '../datasets/scenarios.js';
import { agreement } from '../eval/metrics.js';
import { defenseHeatmapSpec } from '../report/plots/defense-heatmap.js';
import { renderSvg } from '../report/plots/render.js';
import { surrogates } from '../surrogates/index.js';
import { type GridConfig, defaultGridPath, readDefenseGrid } from './defense-grid.js';
import { defaultMatrixAttackNames, getMatrixAttack } from './defense-matrix-attacks.js';
import {
  type CellFile,
  type CellKey,
  cellFileName,
  checkCellFolder,
  reuse,
  writeAtomic,
  writeCell,
} from './defense-matrix-cells.js';
import {
  type AttackCellResult,
  type HonestResult,
  REQUEST_ROWS,
  type Shared,
  attackCell,
  honestCell,
} from './defense-matrix-measure.js';
import { matrixMarkdown } from './defense-matrix-table.js';
import { registryName } from './registry-name.js';
import { heistVersion } from './version.js';

// What this module exported before the cell store, the measuring and the table moved out.
export { CELL_SCHEMA, type CellKey } from './defense-matrix-cells.js';
export { type AttackCellResult, type HonestResult, REQUEST_ROWS } from './defense-matrix-measure.js';
export { matrixMarkdown } from './defense-matrix-table.js';

export const MATRIX_SCHEMA = 'heist.defense-matrix/v1';
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

/** A path inside the repository relative to its root (no machine's folder names in committed results). */
function shownPath(path: string): string {
  const r = relative(repoRoot, path);
  return r.startsWith('..') || isAbsolute(r) ? path : r;
}

function removeIfEmpty(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}

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

export async function runDefenseMatrix(
  input: DefenseMatrixSettings,
  hooks: DefenseMatrixHooks = {},
): Promise<DefenseMatrixResult> {
  const settings = parseSettings(input);
  const scenario = getScenario(settings.scenario);
  const attacks = (settings.attacks ?? defaultMatrixAttackNames()).map(getMatrixAttack);
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
  const victim = await loadOnnxModel(victimModelPath(scenario));
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
        writeCell(pathOf(config, HONEST), honestKey, honest, Math.round(performance.now() - t0));
      }
      configs.push({ name: config.name, defenses: config.defenses, ...honest });
      for (const attack of attacks) {
        let file = stored.get(cellFileName(config.name, attack.name));
        const resumed = file !== undefined;
        if (!file) {
          const t0 = performance.now();
          const result = await attackCell(shared, config, attack);
          file = writeCell(
            pathOf(config, attack.name),
            keyOf(config, attack.name),
            result,
            Math.round(performance.now() - t0),
          );
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
