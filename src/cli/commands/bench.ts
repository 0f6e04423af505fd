/**
 * @file `heist bench defenses` and `heist bench strategies`: flags -> runDefenseMatrix() or
 * runStrategyCurves(); a cli-progress bar over the cells on a terminal (stderr), one plain line per
 * cell otherwise; the summary and the output paths on stdout.
 */
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { scenarios } from '../../datasets/scenarios.js';
import { type CellEvent, runDefenseMatrix } from '../../runs/defense-matrix-run.js';
import { type CurveCellEvent, runStrategyCurves } from '../../runs/strategy-curves-run.js';
import { recipes } from '../../recipes/index.js';
import { strategies } from '../../strategies/index.js';
import { defaultMatrixAttackNames, matrixAttackNames, matrixAttacks } from '../../runs/defense-matrix-attacks.js';
import { MAX_ENSEMBLE_MEMBERS, surrogates } from '../../surrogates/index.js';
import { intList, nonNegativeInt, oneOf, positiveInt, registryChoice } from '../options.js';

function attackList(value: string): string[] {
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  for (const n of names) {
    if (!matrixAttackNames().includes(n))
      throw new InvalidArgumentError(`unknown attack "${n}" (known: ${matrixAttackNames().join(', ')})`);
  }
  if (names.length === 0) throw new InvalidArgumentError('expected at least one attack');
  return names;
}

const fmt = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(3));

function cellLine(e: CellEvent): string {
  const c = e.cell;
  const delay = c.error
    ? `failed (${c.error})`
    : `detected ${c.detectionDelay === null ? 'never' : `after ${c.detectionDelay}`}`;
  return (
    `cell ${e.done}/${e.total} ${c.config} x ${c.attack}: fidelity ${fmt(c.fidelity)}, accuracy ${fmt(c.accuracy)}, ` +
    `${delay}${e.resumed ? ' (from its file)' : `, ${(c.wallMs / 1000).toFixed(1)} s`}\n`
  );
}

function progressBar(format: string, total: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format,
      hideCursor: false, // a run that dies mid-way must not leave the cursor hidden
      clearOnComplete: false,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { cell: '-' });
  return bar;
}

function strategyList(value: string): string[] {
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  for (const n of names) registryChoice(strategies)(n);
  if (names.length === 0) throw new InvalidArgumentError('expected at least one strategy');
  return names;
}

function recipeList(value: string): string[] {
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  for (const n of names) registryChoice(recipes)(n);
  if (names.length === 0) throw new InvalidArgumentError('expected at least one recipe');
  return names;
}

function curveLine(e: CurveCellEvent): string {
  const last = e.cell.points[e.cell.points.length - 1];
  return (
    `cell ${e.done}/${e.total} ${e.cell.strategy} seed ${e.cell.seed}: ` +
    `${e.cell.points.map((p) => `${p.queries}:${p.fidelity.toFixed(4)}`).join(' ')}` +
    `${last ? '' : '(no rounds)'}${e.resumed ? ' (from its file)' : `, ${(e.cell.wallMs / 1000).toFixed(1)} s`}\n`
  );
}

function strategiesCommand(): Command {
  return new Command('strategies')
    .description(
      'Every query strategy against the same victim and pool, over seeds: fidelity at each budget (mean, spread), ' +
        'resumable; writes curves.json, curves.md and curves.svg.',
    )
    .requiredOption('--scenario <name>', 'the victim and its pool', oneOf(Object.keys(scenarios)))
    .option('--budgets <list>', "comma-separated budgets of paid queries (default: the scenario's)", intList)
    .option('--seeds <n>', 'seeds per strategy (seed, seed + 1, ...)', positiveInt, 3)
    .option('--seed <n>', 'the first seed', nonNegativeInt, 0)
    .option(
      '--strategies <list>',
      `comma-separated, default all (none with --recipes alone): ${strategies.names().join(', ')}`,
      strategyList,
    )
    .option(
      '--recipes <list>',
      `comma-separated recipes, each a row run with its own parts and schedule: ${recipes.names().join(', ')}`,
      recipeList,
    )
    .option('--labels <kind>', 'soft (probabilities) or hard (labels only)', oneOf(['soft', 'hard'] as const), 'soft')
    .option(
      '--arch <name>',
      `substitute architecture (default: cnn for images, else mlp): ${surrogates.names().join(' | ')}`,
      registryChoice(surrogates),
    )
    .option(
      '--ensemble <k>',
      `each substitute k networks of the arch, their logits averaged (heist steal --ensemble; 1 to ${MAX_ENSEMBLE_MEMBERS}, default 1)`,
      positiveInt,
    )
    .option('--out <dir>', 'output folder (default runs/strategies/<scenario>-<labels>)')
    .action(async (o) => {
      const out = o.out ?? `runs/strategies/${o.scenario}-${o.labels}`;
      const tty = process.stderr.isTTY === true;
      let bar: cliProgress.SingleBar | undefined;
      try {
        const r = await runStrategyCurves(
          {
            scenario: o.scenario,
            budgets: o.budgets,
            seeds: o.seeds,
            seed: o.seed,
            strategies: o.strategies,
            recipes: o.recipes,
            labels: o.labels,
            arch: o.arch,
            ensemble: o.ensemble,
            out,
          },
          {
            onStart({ total, resumed }) {
              process.stdout.write(`resumed ${resumed} of ${total} cells from ${out}/cells\n`);
              if (tty) bar = progressBar('runs |{bar}| {value}/{total} | {cell}', total);
            },
            onCell(e) {
              if (bar) bar.update(e.done, { cell: `${e.cell.strategy} seed ${e.cell.seed}` });
              else process.stderr.write(curveLine(e));
            },
          },
        );
        bar?.stop();
        bar = undefined;
        process.stdout.write(
          `computed ${r.computed} runs, reused ${r.resumed}\n` +
            `table: ${r.files.markdown}\nplot: ${r.files.plot}\ncurves: ${r.files.json}\n`,
        );
      } finally {
        bar?.stop();
      }
    });
}

function defensesCommand(): Command {
  return new Command('defenses')
    .description(
      'The defense matrix: every attack against every defense configuration of a grid, seeded and resumable; ' +
        'writes matrix.json, matrix.md and heatmap.svg (see docs/defense-matrix.md).',
    )
    .requiredOption('--scenario <name>', 'the victim and its data', oneOf(Object.keys(scenarios)))
    .requiredOption('--budget <n>', 'paid attacker queries per cell', positiveInt)
    .option('--grid <file>', 'defense grid, YAML or JSON (heist.defense-grid/v1; default bench/defense-grid.yaml)')
    .option('--out <dir>', 'output folder (default runs/defenses/<scenario>-<budget>-seed<seed>)')
    .option('--seed <n>', 'seed of every steal (same seed, same numbers)', nonNegativeInt, 0)
    .option(
      '--arch <name>',
      `substitute architecture (default: cnn for images, else mlp): ${surrogates.names().join(' | ')}`,
      registryChoice(surrogates),
    )
    .option(
      '--attacks <list>',
      `comma-separated, default ${defaultMatrixAttackNames().join(', ')}; also ` +
        matrixAttacks
          .filter((a) => !a.byDefault)
          .map((a) => a.name)
          .join(', '),
      attackList,
    )
    .option('--keep-runs', "keep each cell's steal folder (transcript, substitute, report) under <out>/runs/", false)
    .action(async (o) => {
      const out = o.out ?? `runs/defenses/${o.scenario}-${o.budget}-seed${o.seed}`;
      const tty = process.stderr.isTTY === true;
      let bar: cliProgress.SingleBar | undefined;
      try {
        const r = await runDefenseMatrix(
          {
            scenario: o.scenario,
            budget: o.budget,
            grid: o.grid,
            out,
            seed: o.seed,
            arch: o.arch,
            attacks: o.attacks,
            keepRuns: o.keepRuns,
          },
          {
            onStart({ total, resumed }) {
              process.stdout.write(`resumed ${resumed} of ${total} cells from ${out}/cells\n`);
              if (tty) bar = progressBar('cells |{bar}| {value}/{total} | {cell}', total);
            },
            onCell(e) {
              if (bar) bar.update(e.done, { cell: `${e.cell.config} x ${e.cell.attack}` });
              else process.stderr.write(cellLine(e));
            },
          },
        );
        bar?.stop();
        bar = undefined;
        process.stdout.write(
          `computed ${r.computed} cells, reused ${r.resumed}\n` +
            `table: ${r.files.markdown}\nheatmap: ${r.files.heatmap}\nmatrix: ${r.files.json}\n`,
        );
      } finally {
        bar?.stop();
      }
    });
}

export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'Benchmarks run by the CLI: `heist bench defenses` (the defense matrix), `heist bench strategies` (query strategies).',
    )
    .addCommand(defensesCommand())
    .addCommand(strategiesCommand());
}
