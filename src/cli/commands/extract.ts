/** @file `heist extract`: flags -> runExtract(); `--list` names the methods with their papers. */
import { Command } from 'commander';
import { listExtractors } from '../../attacks/extract/index.js';
import { textExtractors } from '../../attacks/extract/llm/index.js';
import { HeistError } from '../../core/errors.js';
import { runExtract } from '../../runs/extract-run.js';
import { runExtractLlm } from '../../runs/extract-llm-run.js';
import { keyValue, nonNegativeInt, oneOf, positiveInt, positiveNumber } from '../options.js';
import { confirmOnTerminal } from '../confirm.js';
import { addTargetOptions, targetSettings } from '../target-options.js';

export function extractCommand(): Command {
  return addTargetOptions(
    new Command('extract')
      .description(
        'Extract a model exactly: recover its parameters from a few paid answers (e.g. logistic / softmax regression by equation solving).',
      )
      .option(
        '--method <name>',
        `extraction method (see --list): ${[...listExtractors().map((m) => m.name), ...textExtractors.names()].join(' | ')}`,
      )
      .option(
        '--method-option <key=value>',
        'an option of the method, e.g. hidden=20 for mlp-equation-solving (repeatable; value read as JSON when it parses)',
        keyValue,
      )
      .option('--target <url|file>', 'prediction API (http://host:port/v1/models/NAME) or a local .onnx model file')
      .option(
        '--out <dir>',
        'output folder: run.json, report.html, extracted.onnx, extracted-weights.json, transcript.jsonl',
      )
      .option(
        '--budget <n>',
        "paid attack queries (input rows); default: the method's minimum (d + 1 for equation solving)",
        positiveInt,
      )
      .option(
        '--eval <name>',
        'held-out inputs on which to compare with the target: a scenario (its evaluation split) or a data set',
      )
      .option(
        '--uniform-eval <n>',
        'uniform random inputs on which to compare with the target (paid, counted as eval; 0 = skip)',
        nonNegativeInt,
        10_000,
      )
      .option(
        '--design <kind>',
        'query rows: uniform (random in the domain) | basis (a corner and its d edges)',
        oneOf(['uniform', 'basis'] as const),
      )
      .option('--seed <s>', 'random seed (same seed, same run)', nonNegativeInt, 0)
      .option('--list', 'list the extraction methods and the papers they implement', false)
      .option('--yes', 'do not ask before buying (the cost summary is printed all the same)', false)
      .option('--lm-model <name>', 'llm-final-layer: the model name sent to /v1/completions', 'tiny-lm')
      .option(
        '--prompts <n>',
        'llm-final-layer: random prompts (logit vectors) to buy; must exceed the hidden size',
        positiveInt,
        128,
      )
      .option(
        '--api <kind>',
        'llm-final-layer: completions (POST /v1/completions) | chat (POST /v1/chat/completions, top-k logprobs)',
        oneOf(['completions', 'chat'] as const),
        'completions',
      )
      .option(
        '--logits <kind>',
        'llm-final-layer: full (Heist "logprobs": "full") | topk (top-5 logprobs + logit_bias)',
        oneOf(['full', 'topk'] as const),
        'topk',
      )
      .option(
        '--price-per-1k <usd>',
        'llm-final-layer: assumed USD per 1k tokens for the cost report (default 0.002)',
        positiveNumber,
      )
      .option(
        '--verify <tiny-lm.json>',
        "llm-final-layer: align the recovered W to this model file's true W (evaluation only)",
      ),
  ).action(async (o) => {
    if (o.list) {
      for (const m of listExtractors())
        process.stdout.write(`${m.name}\n  ${m.description}\n  needs: ${m.needs}\n  paper: ${m.paper}\n`);
      for (const m of textExtractors.entries())
        process.stdout.write(
          `${m.name}\n  ${m.summary}\n  needs: an OpenAI-style /v1/completions API\n  paper: ${m.paper}\n`,
        );
      return;
    }
    const missing = ['method', 'target', 'out'].filter((k) => o[k] === undefined);
    if (missing.length > 0) {
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `heist extract needs ${missing.map((k) => `--${k}`).join(', ')} (or --list)`,
      );
    }
    if (textExtractors.has(o.method)) {
      const { record: r } = await runExtractLlm({
        target: o.target,
        model: o.lmModel,
        out: o.out,
        prompts: o.prompts,
        logits: o.logits,
        api: o.api,
        budget: o.budget,
        seed: o.seed,
        pricePer1k: o.pricePer1k,
        verify: o.verify,
        headers: o.header,
      });
      const v = r.verification;
      process.stdout.write(
        `hidden size ${r.hiddenSize} (gap s_h/s_h+1 = ${r.gapRatio.toExponential(2)})  queries ${r.queries}  tokens ${r.totalTokens}  ` +
          `cost $${r.costUsd.toFixed(4)} at $${r.pricePer1kTokens}/1k tokens\n` +
          (v
            ? `verify: true h ${v.trueHiddenSize} (${v.hiddenSizeCorrect ? 'correct' : 'WRONG'}), RMS after alignment ${v.rms.toExponential(2)} (relative ${v.relativeRms.toExponential(2)})\n`
            : '') +
          `record: ${o.out}/llm-run.json\n`,
      );
      return;
    }
    const record = await runExtract(
      {
        method: o.method,
        methodOptions: o.methodOption,
        target: o.target,
        out: o.out,
        budget: o.budget,
        eval: o.eval,
        uniformEval: o.uniformEval,
        design: o.design,
        ...targetSettings(o),
        seed: o.seed,
      },
      { confirm: confirmOnTerminal(o.yes) },
    );
    const m = record.metrics;
    const f = (v: number | undefined): string => (v === undefined ? 'n/a' : v.toFixed(4));
    process.stdout.write(
      `fidelity ${f(m.fidelity)} (eval split ${f(m.evalSplitFidelity)}, uniform ${f(m.uniformFidelity)})  ` +
        `queries ${record.queries.used}/${record.queries.budget} (+${record.queries.eval} eval)  ` +
        `extraction ${((m.extractMs ?? 0) / 1000).toFixed(2)} s\nreport: ${o.out}/report.html\n`,
    );
  });
}
