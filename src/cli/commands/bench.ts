/**
 * @file `heist bench defenses`: flags -> runDefenseMatrix(); a cli-progress bar over the cells on a
 * terminal (stderr), one plain line per cell otherwise; the summary and the output paths on stdout.
 */
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { scenarios } from '../../datasets/scenarios.js';
import { type CellEvent, runDefenseMatrix } from '../../runs/defense-matrix-run.js';
import { matrixAttackNames, matrixAttacks, unavailableAttacks } from '../../runs/defense-matrix-attacks.js';
import { surrogates } from '../../surrogates/index.js';
import { nonNegativeInt, oneOf, positiveInt, registryChoice } from '../options.js';

function attackList(value: string): string[] {
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  for (const n of names) {
    const missing = unavailableAttacks.find((a) => a.name === n);
    if (missing) throw new InvalidArgumentError(`attack "${n}" is not available: ${missing.why}`);
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
      `comma-separated, default all: ${matrixAttacks.map((a) => a.name).join(', ')} ` +
        `(not available yet: ${unavailableAttacks.map((a) => a.name).join(', ')})`,
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
              if (tty) {
                bar = new cliProgress.SingleBar(
                  {
                    stream: process.stderr,
                    format: 'cells |{bar}| {value}/{total} | {cell}',
                    hideCursor: false, // a run that dies mid-way must not leave the cursor hidden
                    clearOnComplete: false,
                    fps: 5,
                  },
                  cliProgress.Presets.shades_classic,
                );
                bar.start(total, 0, { cell: '-' });
              }
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
    .description('Benchmarks run by the CLI: `heist bench defenses` (the defense matrix).')
    .addCommand(defensesCommand());
}
