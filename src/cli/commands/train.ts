/** @file `heist train`: train a victim (scenario or data set + arch) and write it as ONNX. */
import { Command } from 'commander';
import { runTrain } from '../../runs/train-run.js';
import { datasetNames } from '../../datasets/registry.js';
import { scenarios } from '../../datasets/scenarios.js';
import { surrogates } from '../../surrogates/index.js';
import { trainEngines } from '../../backends/train-engines.js';
import { engineHelp, intList, nonNegativeInt, positiveInt, registryChoice } from '../options.js';

export function trainCommand(): Command {
  return new Command('train')
    .description('Train a victim model and write it as a standard ONNX file (checked against onnxruntime).')
    .option('--scenario <name>', `a standard scenario: ${Object.keys(scenarios).join(' | ')}`)
    .option('--dataset <name>', `a shipped data set (${datasetNames.join(', ')}), with --arch`)
    .option(
      '--arch <arch>',
      `${surrogates.names().join(' | ')} | tree (CART, written as heist.tree/v1 JSON: --out x.tree.json)`,
      registryChoice(surrogates, ['tree']),
    )
    .option('--max-depth <n>', 'tree: longest root-to-leaf path (default 10)', positiveInt)
    .option('--min-samples-leaf <n>', 'tree: fewest training rows per leaf (default 1)', positiveInt)
    .option('--hidden <widths>', 'mlp hidden widths, e.g. 32 or 256,128', intList)
    .option('--epochs <n>', 'training epochs', positiveInt)
    .option('--engine <name>', engineHelp(trainEngines.names()), registryChoice(trainEngines))
    .option('--seed <s>', 'random seed', nonNegativeInt, 0)
    .requiredOption('--out <file.onnx>', 'where to write the model')
    .action(async (o) => {
      const r = await runTrain({
        scenario: o.scenario,
        dataset: o.dataset,
        arch: o.arch,
        hidden: o.hidden,
        epochs: o.epochs,
        seed: o.seed,
        engine: o.engine,
        out: o.out,
        maxDepth: o.maxDepth,
        minSamplesLeaf: o.minSamplesLeaf,
        onEpoch: (e, n, loss) => process.stderr.write(`epoch ${e + 1}/${n} loss ${loss.toFixed(4)}\n`),
      });
      process.stdout.write(
        `${r.name} (${r.arch}): test accuracy ${r.testAccuracy.toFixed(4)} on ${r.testRows} rows; ` +
          `${r.arch === 'tree' ? '' : `exported ONNX vs trained network max |dp| ${r.onnxMaxAbsDiff.toExponential(2)}; `}wrote ${r.out} in ${(r.wallMs / 1000).toFixed(1)} s\n`,
      );
    });
}
