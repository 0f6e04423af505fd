/**
 * @file `heist verify watermark`: is this suspect model a copy trained on our watermarked answers?
 * Flags -> runs/verify-watermark-run.ts; prints the matched count, the p-value under the stated
 * null and the queries spent (or the whole report as JSON).
 */
import { Command } from 'commander';
import { watermarkModes } from '../../defenses/watermark.js';
import { type VerifyWatermarkOptions, verifyWatermarkRun } from '../../runs/verify-watermark-run.js';
import { fraction, oneOf, positiveInt, time } from '../options.js';
import { addTargetOptions, targetSettings } from '../target-options.js';

function watermarkCommand(): Command {
  return addTargetOptions(
    new Command('watermark')
      .description(
        'Replay the watermarked inputs of an audit log against a suspect model; report how many answers carry the watermark and the binomial p-value under the null that the suspect is independent of the key.',
      )
      .requiredOption('--suspect <url|file>', 'the suspect model: an http(s) prediction API or a model file')
      .requiredOption('--audit <url>', "the victim gateway's audit log: sqlite://path/to/audit.db or postgres://...")
      .requiredOption('--key-env <var>', "environment variable holding the gateway's deployment secret (its secretEnv)")
      .requiredOption('--watermark-rate <fraction>', "the watermark stage's rate", fraction)
      .option(
        '--mode <mode>',
        `the watermark stage's mode: ${watermarkModes.join(' or ')}`,
        oneOf(watermarkModes),
        'label',
      )
      .option('--model <name>', 'only records of this served model')
      .option('--client <id>', 'only records of this client (key:<id> or ip:<address>)')
      .option('--since <time>', 'only records at or after this ISO date-time or epoch ms', time)
      .option('--until <time>', 'only records at or before this ISO date-time or epoch ms', time)
      .option('--max-queries <n>', 'send the suspect at most this many watermarked inputs', positiveInt)
      .option('--alpha <p>', 'report the suspect identified below this p-value', fraction, 0.01)
      .option(
        '--out <dir>',
        "where the transcript of the suspect's answers is written (default: runs/verify-watermark-<epoch ms>)",
      )
      .option('--json', 'print the report as JSON', false),
  ).action(async (o) => {
    const r = await verifyWatermarkRun({
      ...(targetSettings(o) as Omit<VerifyWatermarkOptions, 'suspect' | 'audit' | 'keyEnv' | 'watermarkRate' | 'out'>),
      suspect: o.suspect,
      audit: o.audit,
      keyEnv: o.keyEnv,
      watermarkRate: o.watermarkRate,
      mode: o.mode,
      model: o.model,
      client: o.client,
      since: o.since,
      until: o.until,
      maxQueries: o.maxQueries,
      alpha: o.alpha,
      out: o.out ?? `runs/verify-watermark-${Date.now()}`,
    });
    if (o.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    const v = r.verdict;
    const p =
      v.pValue > 0 ? `${v.pValue.toPrecision(3)} (2^${v.log2PValue.toFixed(1)})` : `2^${v.log2PValue.toFixed(1)}`;
    const lines = [
      `suspect ${r.suspect}: ${r.identified ? 'IDENTIFIED as trained on the watermarked answers' : 'not identified'} (alpha ${r.alpha})`,
      `  matched ${v.matched} of ${v.queried} watermarked inputs (${r.mode} mode); p = ${p}`,
      `  null: ${v.nullHypothesis}`,
      `  ${r.watermarkedInputs} of ${r.scannedInputs} distinct logged inputs are watermarked (rate ${r.rate}; 99% interval ${r.selectionInterval99[0]}-${r.selectionInterval99[1]})`,
      `  queries spent: ${r.queriesSpent}; transcript ${r.transcript}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description('Forensics: is a suspect model a copy of ours?')
    .addCommand(watermarkCommand());
}
