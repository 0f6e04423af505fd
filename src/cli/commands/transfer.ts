/** @file `heist transfer`: flags -> runTransfer(); the success rates as a table on stdout. */
import { Command, InvalidArgumentError } from 'commander';
import { runTransfer } from '../../runs/transfer-run.js';
import { confirmOnTerminal } from '../confirm.js';
import { nonNegativeInt, positiveInt } from '../options.js';
import { addTargetOptions, targetSettings } from '../target-options.js';

function epsilonList(value: string): number[] {
  const out = value.split(',').map((v) => Number(v.trim()));
  if (out.length === 0 || out.some((e) => !(e > 0 && e <= 1)))
    throw new InvalidArgumentError('expected a comma-separated list of numbers in (0, 1]');
  return out;
}

function methodList(value: string): string[] {
  const out = value.split(',').map((v) => v.trim());
  for (const m of out)
    if (!['fgsm', 'pgd', 'noise'].includes(m))
      throw new InvalidArgumentError(`unknown method "${m}" (fgsm, pgd, noise)`);
  return out;
}

export function transferCommand(): Command {
  return addTargetOptions(
    new Command('transfer')
      .description(
        'Adversarial examples crafted on a stolen substitute (FGSM, PGD) tried on the target, beside random sign noise of the same norm; every query counted and kept in the transcript.',
      )
      .requiredOption('--substitute <dir|file>', "a steal's output folder (its substitute.onnx), or the file")
      .requiredOption('--target <url|file>', 'the model to fool: a prediction API or a local .onnx file')
      .requiredOption('--out <dir>', 'output folder: transfer.json, transcript.jsonl')
      .option(
        '--eval <name>',
        "rows to start from: a scenario (its evaluation split) or a data set; default: the steal's",
      )
      .option('--rows <n>', 'rows to attack (a seeded sample)', positiveInt, 500)
      .option('--epsilons <list>', 'L-infinity radii as fractions of the input domain', epsilonList, [0.1, 0.2, 0.3])
      .option('--methods <list>', 'fgsm, pgd, noise (the substitute-free baseline)', methodList, [
        'fgsm',
        'pgd',
        'noise',
      ])
      .option('--steps <n>', 'PGD steps', positiveInt, 10)
      .option('--concurrency <n>', 'upstream calls in flight at once', positiveInt, 4)
      .option('--seed <s>', 'random seed (the rows and the noise)', nonNegativeInt, 0)
      .option('--yes', 'do not ask before buying (the cost summary is printed all the same)', false),
  ).action(async (o) => {
    const r = await runTransfer(
      {
        substitute: o.substitute,
        target: o.target,
        out: o.out,
        eval: o.eval,
        rows: o.rows,
        epsilons: o.epsilons,
        methods: o.methods,
        steps: o.steps,
        concurrency: o.concurrency,
        seed: o.seed,
        ...targetSettings(o),
      },
      { confirm: confirmOnTerminal(o.yes) },
    );
    const methods = [...new Set(r.results.map((x) => x.method))];
    const lines = [
      `${r.rows} rows of ${r.eval}${r.cleanAccuracy !== undefined ? ` (target accuracy on them ${r.cleanAccuracy.toFixed(4)})` : ''}, ${r.queries} queries; share whose label the target changes:`,
      `${'epsilon'.padEnd(9)}${methods.map((m) => m.padStart(9)).join('')}`,
      ...[...new Set(r.results.map((x) => x.epsilon))].map(
        (e) =>
          `${String(e).padEnd(9)}${methods
            .map((m) =>
              `${((r.results.find((x) => x.method === m && x.epsilon === e)?.successRate ?? 0) * 100).toFixed(1)}%`.padStart(
                9,
              ),
            )
            .join('')}`,
      ),
      `wrote ${o.out}/transfer.json`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
