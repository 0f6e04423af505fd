/** @file `heist steal`: flags -> runSteal(); a progress bar on a terminal, a line per round otherwise. */
import { Command } from 'commander';
import { scheduleSyntax } from '../../attacks/schedule.js';
import { datasetNames } from '../../datasets/registry.js';
import { recipes } from '../../recipes/index.js';
import { runSteal } from '../../runs/steal-run.js';
import { createTerminalReporter } from '../../report/reporters/terminal.js';
import { strategies } from '../../strategies/index.js';
import { MAX_ENSEMBLE_MEMBERS, surrogates } from '../../surrogates/index.js';
import { trainEngines } from '../../backends/train-engines.js';
import {
  describeChoices,
  engineHelp,
  fraction,
  intList,
  keyValue,
  oneOf,
  positiveInt,
  positiveNumber,
  smoothingFraction,
  nonNegativeInt,
  registryChoice,
} from '../options.js';
import { confirmOnTerminal } from '../confirm.js';
import { addTargetOptions, targetSettings } from '../target-options.js';

export function stealCommand(): Command {
  return addTargetOptions(
    new Command('steal')
      .description(
        'Steal a model: buy answers from a target within a query budget, train a substitute, report fidelity and cost.',
      )
      .requiredOption(
        '--target <url|file>',
        'prediction API (http://host:port/v1/models/NAME) or a local .onnx model file',
      )
      .requiredOption('--budget <n>', 'paid attack queries (input rows) allowed', positiveInt)
      .requiredOption('--out <dir>', 'output folder: run.json, report.html, substitute.onnx, transcript.jsonl')
      .option(
        '--recipe <name>',
        `a published attack's preset of strategy, substitute, labels, training and schedule; flags given override its parts (default heist; see heist recipes): ${recipes.names().join(' | ')}`,
        registryChoice(recipes),
      )
      .option(
        '--recipe-option <key=value>',
        'an option of the recipe (repeatable; value read as JSON when it parses)',
        keyValue,
      )
      .option(
        '--strategy <name>',
        `query selection (default: k-center with --pool, else data-free): ${describeChoices(strategies)}`,
        registryChoice(strategies),
      )
      .option(
        '--strategy-option <key=value>',
        'an option of the strategy (repeatable; value read as JSON when it parses)',
        keyValue,
      )
      .option(
        '--pool <name>',
        `attacker data: a scenario (its attacker pool, e.g. mnist-cnn) or a data set (${datasetNames.join(', ')})`,
      )
      .option(
        '--eval <name>',
        "held-out evaluation inputs: a scenario (its evaluation split) or a data set; default: the pool's scenario",
      )
      .option(
        '--arch <arch>',
        `substitute architecture (default: cnn for images, else mlp): ${surrogates.names().join(' | ')}`,
        registryChoice(surrogates),
      )
      .option('--hidden <widths>', 'mlp hidden widths, e.g. 256,128', intList)
      .option(
        '--ensemble <k>',
        `train k substitutes of the arch from independent seeds and average their logits (1 to ${MAX_ENSEMBLE_MEMBERS}; default 1: one network; each fit takes k times as long)`,
        positiveInt,
      )
      .option('--engine <name>', engineHelp(trainEngines.names()), registryChoice(trainEngines))
      .option(
        '--labels <kind>',
        'soft: distil probabilities | hard: train on labels only (default: soft when the target returns probabilities)',
        oneOf(['soft', 'hard'] as const),
      )
      .option('--target-fidelity <f>', 'stop early once fidelity on the evaluation set reaches f', fraction)
      .option('--warm-start', "each round trains the previous round's substitute on instead of a fresh one")
      .option('--checkpoints <list>', 'cumulative query counts at which to refit and evaluate (last = budget)', intList)
      .option(
        '--schedule <kind>',
        `rounds instead of --checkpoints: ${scheduleSyntax} (default: the recipe's; standard = the standard budgets below --budget)`,
      )
      .option('--epochs <n>', 'minimum training epochs per fit', positiveInt)
      .option('--batch-size <n>', 'training batch size', positiveInt)
      .option('--lr <rate>', 'Adam learning rate (annealed to 0 with a cosine schedule)', positiveNumber)
      .option(
        '--shift-augment <px>',
        'train image substitutes on copies shifted by up to px pixels (default 2 for cnn; 0 = off)',
        nonNegativeInt,
      )
      .option(
        '--temperature <T>',
        "distil the target's probabilities at temperature T, p^(1/T) renormalised, no row past a top class 3x its runner-up (default 4 with --pool, else 1; soft labels only)",
        positiveNumber,
      )
      .option(
        '--label-smoothing <eps>',
        'train on (1 - eps) label + eps spread over the classes (default 0.2 with --pool, else 0; labels only)',
        smoothingFraction,
      )
      .option('--concurrency <n>', 'upstream calls in flight at once', positiveInt, 4)
      .option('--price <perQuery>', 'price of one query, for the cost line of the report', positiveNumber)
      .option('--seed <s>', 'random seed (same seed, same run)', nonNegativeInt, 0)
      .option('--resume', 'continue an interrupted run in --out from its transcript, re-buying nothing', false)
      .option('--yes', 'do not ask before buying (the cost summary is printed all the same)', false),
  ).action(async (o) => {
    const record = await runSteal(
      {
        target: o.target,
        budget: o.budget,
        out: o.out,
        recipe: o.recipe,
        recipeOptions: o.recipeOption,
        strategy: o.strategy,
        strategyOptions: o.strategyOption,
        pool: o.pool,
        eval: o.eval,
        arch: o.arch,
        hidden: o.hidden,
        ensemble: o.ensemble,
        engine: o.engine,
        labels: o.labels,
        targetFidelity: o.targetFidelity,
        warmStart: o.warmStart,
        checkpoints: o.checkpoints,
        schedule: o.schedule,
        epochs: o.epochs,
        batchSize: o.batchSize,
        learningRate: o.lr,
        shiftAugment: o.shiftAugment,
        temperature: o.temperature,
        labelSmoothing: o.labelSmoothing,
        concurrency: o.concurrency,
        pricePerQuery: o.price,
        ...targetSettings(o),
        seed: o.seed,
        resume: o.resume,
      },
      { reporters: [createTerminalReporter({ stream: process.stderr })], confirm: confirmOnTerminal(o.yes) },
    );
    const m = record.metrics;
    process.stdout.write(
      `fidelity ${m.fidelity?.toFixed(4) ?? 'n/a'}  accuracy ${m.accuracy?.toFixed(4) ?? 'n/a'}  ` +
        `queries ${record.queries.used}/${record.queries.budget} (+${record.queries.eval} eval, ${record.queries.cached} cached)  ` +
        `${(record.wallMs / 1000).toFixed(1)} s\nreport: ${o.out}/report.html\n`,
    );
  });
}
