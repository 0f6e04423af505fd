/** @file `heist probe`: flags -> runProbe(); prints what the target is and what finding out cost. */
import { Command } from 'commander';
import { runProbe } from '../../runs/probe-run.js';
import { nonNegativeInt, positiveInt } from '../options.js';
import { addTargetOptions, targetSettings } from '../target-options.js';

export function probeCommand(): Command {
  return addTargetOptions(
    new Command('probe')
      .description(
        'Probe a prediction API: its wire format, input shape, classes, output kind and domain, latency and rate limiting, and what that cost.',
      )
      .requiredOption('--target <url>', 'the API, e.g. http://host:8501/v1/models/NAME')
      .option('--rows <n>', 'uniform rows bought to check the answers (paid, purpose probe)', positiveInt, 4)
      .option(
        '--burst <n>',
        'single-row requests sent at once to see whether the API rate-limits (paid; 0 = none)',
        nonNegativeInt,
        0,
      )
      .option('--out <dir>', 'where probe.json and the transcript of paid rows go', 'runs/probe')
      .option('--seed <s>', 'random seed', nonNegativeInt, 0)
      .option('--verbose', 'log every request: method, URL, status, milliseconds (headers never)', false),
  ).action(async (o) => {
    const r = await runProbe(
      {
        target: o.target,
        ...targetSettings(o),
        rows: o.rows,
        burst: o.burst,
        out: o.out,
        seed: o.seed,
      },
      { log: o.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined },
    );
    const lines: string[] = [];
    if (r.error) {
      lines.push(`no wire format fits: ${r.error.message}`, '', r.suggestedMapping ?? '');
    } else {
      const i = r.info!;
      lines.push(
        `format ${r.format}; model "${i.name}": input [${i.inputShape.join(', ')}] in [${i.domain.min}, ${i.domain.max}], ${i.classes} classes${i.classNames ? ` (${i.classNames.join(', ')})` : ''}`,
        `output: declared ${i.output}, answered ${r.observedOutput}${r.mismatches.length > 0 ? `; mismatches: ${r.mismatches.join('; ')}` : ''}`,
        `latency per request: median ${r.latencyMs?.median.toFixed(1)} ms, max ${r.latencyMs?.max.toFixed(1)} ms`,
      );
      if (r.rateLimit)
        lines.push(
          `burst of ${r.rateLimit.burst}: ${r.rateLimit.refused} refused with 429${r.rateLimit.retryAfter.length > 0 ? ` (Retry-After ${[...new Set(r.rateLimit.retryAfter)].join(', ')})` : ''}`,
        );
    }
    lines.push(`cost: ${r.requests.length} requests, ${r.rowsPaid} paid rows; report: ${o.out}/probe.json`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (r.error) process.exitCode = 2;
  });
}
