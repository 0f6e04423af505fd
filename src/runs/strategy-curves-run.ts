/**
 * @file `heist bench strategies` as a function: every chosen query strategy (and recipe) against the
 * same victim (the scenario's shipped model file, attacked in-process through its Predictor) and the same pool,
 * over several seeds, each cell one seeded `runSteal` whose rounds end at the budgets. Each finished
 * cell is written at once (atomically) under <out>/cells/ and reused by the next run with the same
 * settings, so an interrupted grid resumes where it stopped; at the end curves.json, curves.md
 * (strategy-curves-table.ts) and curves.svg (mean over seeds with a min-max band) are written.
 * Nothing here prints: progress goes to the hooks.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { getScenario, victimModelPath } from '../datasets/scenarios.js';
import { strategyCurvesSpec } from '../report/plots/strategy-curves.js';
import { renderSvg } from '../report/plots/render.js';
import { scheduleCheckpoints } from '../attacks/schedule.js';
import { recipes } from '../recipes/index.js';
import { strategies } from '../strategies/index.js';
import { MAX_ENSEMBLE_MEMBERS, surrogates } from '../surrogates/index.js';
import { writeAtomic } from './defense-matrix-cells.js';
import { registryName } from './registry-name.js';
import { runSteal } from './steal-run.js';
import { type CurveCell, curvesMarkdown, summarizeCurves } from './strategy-curves-table.js';
import { heistVersion } from './version.js';

export const CURVES_SCHEMA = 'heist.strategy-curves/v1';
const CELL_SCHEMA = 'heist.strategy-curves-cell/v1';

const settingsSchema = z
  .object({
    scenario: z.string().min(1),
    /** Budgets (cumulative paid queries) at which each run is measured; default: the scenario's. */
    budgets: z.array(z.number().int().positive()).min(1).optional(),
    /** Seeds per strategy: seed, seed + 1, ... */
    seeds: z.number().int().positive().default(3),
    seed: z.number().int().nonnegative().default(0),
    /** Strategy names; default: every registered strategy (none when only recipes are named). */
    strategies: z.array(registryName(strategies)).min(1).optional(),
    /**
     * Recipes, each a row `recipe:NAME` run with its own parts (labels included; `labels` is for the
     * strategy rows) and its own schedule's checkpoints plus the budgets.
     */
    recipes: z.array(registryName(recipes)).min(1).optional(),
    labels: z.enum(['soft', 'hard']).default('soft'),
    arch: registryName(surrogates).optional(),
    /** Members of each substitute (`heist steal --ensemble`); 1, the default, is one network. */
    ensemble: z.number().int().min(1).max(MAX_ENSEMBLE_MEMBERS).default(1),
    out: z.string().min(1),
  })
  .strict();

export type StrategyCurvesSettings = z.input<typeof settingsSchema>;

/** What makes a cell's numbers: a cell file is reused only when its key is the wanted one. */
interface CellKey {
  readonly scenario: string;
  readonly budgets: readonly number[];
  readonly labels: 'soft' | 'hard';
  readonly arch: string | null;
  /** The row: a strategy name, or `recipe:NAME`. */
  readonly strategy: string;
  readonly seed: number;
  /** Set on recipe rows. */
  readonly recipe?: string;
  /** Set only above 1, so that the cells of single-network grids keep their keys. */
  readonly ensemble?: number;
}

interface CellFile {
  readonly schema: typeof CELL_SCHEMA;
  readonly key: CellKey;
  readonly cell: CurveCell;
}

export interface CurveCellEvent {
  readonly cell: CurveCell;
  readonly done: number;
  readonly total: number;
  readonly resumed: boolean;
}

export interface StrategyCurvesHooks {
  onStart?(e: { readonly total: number; readonly resumed: number }): void;
  onCell?(e: CurveCellEvent): void;
}

export interface StrategyCurvesResult {
  readonly computed: number;
  readonly resumed: number;
  readonly files: { readonly json: string; readonly markdown: string; readonly plot: string };
}

const sameKey = (a: CellKey, b: CellKey): boolean => JSON.stringify(a) === JSON.stringify(b);

function readCell(path: string, key: CellKey): CurveCell | undefined {
  if (!existsSync(path)) return undefined;
  let file: CellFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as CellFile;
  } catch {
    return undefined; // writes are atomic, so only a foreign file: recomputed
  }
  if (file.schema !== CELL_SCHEMA) return undefined;
  if (!sameKey(file.key, key))
    throw new HeistError(
      'HEIST_ERR_RESUME',
      `${path} was computed with other settings (${JSON.stringify(file.key)}): use another --out, or delete that folder`,
    );
  return file.cell;
}

/** A recipe's own rounds (its schedule, to the largest budget) with a checkpoint at every budget too. */
function recipeCheckpoints(recipe: string, budgets: readonly number[]): number[] {
  const budget = budgets[budgets.length - 1];
  const own = scheduleCheckpoints(recipes.create(recipe, {}, undefined).schedule ?? { kind: 'standard' }, budget);
  return [...new Set([...own, ...budgets])].sort((a, b) => a - b);
}

export async function runStrategyCurves(
  input: StrategyCurvesSettings,
  hooks: StrategyCurvesHooks = {},
): Promise<StrategyCurvesResult> {
  const s = settingsSchema.parse(input);
  const scenario = getScenario(s.scenario);
  const budgets = [...new Set(s.budgets ?? scenario.budgets)].sort((a, b) => a - b);
  const names = s.strategies ?? (s.recipes ? [] : strategies.names());
  const rows: { strategy: string; file: string; recipe?: string }[] = [
    ...names.map((strategy) => ({ strategy, file: strategy })),
    ...(s.recipes ?? []).map((recipe) => ({ strategy: `recipe:${recipe}`, recipe, file: `recipe-${recipe}` })),
  ];
  const out = resolve(s.out);
  const cellsDir = join(out, 'cells');
  mkdirSync(cellsDir, { recursive: true });
  const target = victimModelPath(scenario);
  // In the cell keys and the steals only above 1, so that the cells of single-network grids keep their keys.
  const members = s.ensemble > 1 ? { ensemble: s.ensemble } : {};

  const todo = rows.flatMap((row) =>
    Array.from({ length: s.seeds }, (_, k) => {
      const key: CellKey = {
        scenario: scenario.name,
        budgets,
        labels: s.labels,
        arch: s.arch ?? null,
        strategy: row.strategy,
        seed: s.seed + k,
        ...(row.recipe ? { recipe: row.recipe } : {}),
        ...members,
      };
      return { key, path: join(cellsDir, `${row.file}__seed${key.seed}.json`) };
    }),
  );
  const stored = todo.map((t) => readCell(t.path, t.key));
  const resumed = stored.filter((c) => c !== undefined).length;
  hooks.onStart?.({ total: todo.length, resumed });

  const cells: CurveCell[] = [];
  let done = 0;
  for (const [i, { key, path }] of todo.entries()) {
    let cell = stored[i];
    const wasStored = cell !== undefined;
    if (!cell) {
      const runDir = mkdtempSync(join(tmpdir(), 'heist-strategy-curve-'));
      try {
        const budget = budgets[budgets.length - 1];
        const rec = await runSteal({
          target,
          budget,
          pool: scenario.name,
          seed: key.seed,
          out: runDir,
          ...(s.arch ? { arch: s.arch } : {}),
          ...members,
          ...(key.recipe
            ? { recipe: key.recipe, checkpoints: recipeCheckpoints(key.recipe, budgets) }
            : { strategy: key.strategy, labels: key.labels, checkpoints: budgets }),
        });
        cell = {
          strategy: key.strategy,
          seed: key.seed,
          points: rec.rounds.map((r) => ({
            queries: r.queriesUsed,
            fidelity: r.metrics.fidelity ?? Number.NaN,
            accuracy: r.metrics.accuracy ?? Number.NaN,
          })),
          wallMs: rec.wallMs,
        };
      } finally {
        rmSync(runDir, { recursive: true, force: true });
      }
      writeAtomic(path, `${JSON.stringify({ schema: CELL_SCHEMA, key, cell } satisfies CellFile, null, 2)}\n`);
    }
    cells.push(cell);
    hooks.onCell?.({ cell, done: ++done, total: todo.length, resumed: wasStored });
  }

  const summary = summarizeCurves(cells, budgets);
  const files = { json: join(out, 'curves.json'), markdown: join(out, 'curves.md'), plot: join(out, 'curves.svg') };
  const meta = {
    scenario: scenario.name,
    labels: s.labels,
    arch: s.arch ?? null,
    ensemble: s.ensemble,
    seeds: Array.from({ length: s.seeds }, (_, k) => s.seed + k),
    budgets,
    strategies: rows.map((r) => r.strategy),
  };
  writeAtomic(
    files.json,
    `${JSON.stringify({ schema: CURVES_SCHEMA, heist: heistVersion, ...meta, summary, cells }, null, 2)}\n`,
  );
  writeAtomic(files.markdown, curvesMarkdown(meta, summary));
  writeAtomic(
    files.plot,
    await renderSvg(
      strategyCurvesSpec(
        summary,
        `${scenario.name}, ${s.labels} labels${s.ensemble > 1 ? `, ensembles of ${s.ensemble}` : ''}, mean of ${s.seeds} seed(s), band min-max`,
      ),
    ),
  );
  return { computed: todo.length - resumed, resumed, files };
}
