/**
 * @file The flags every paid command shares for how it reaches an HTTP target (`steal`, `extract`):
 * the wire format and its options, pacing, batch cap, timeout and extra headers; and what they
 * become in a run's settings.
 */
import type { Command } from 'commander';
import { wireFormats } from '../oracle/formats/index.js';
import { describeChoices, formatChoice, header, keyValue, positiveInt, rate, seconds } from './options.js';

export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option(
      '--format <name>',
      `the target API's wire format (default: detected), or a heist.mapping/v1 file (*.yaml, *.json) for any JSON API: ${describeChoices(wireFormats)}`,
      formatChoice(wireFormats),
    )
    .option(
      '--format-option <key=value>',
      'an option of the format, e.g. domain=\'{"min":0,"max":255}\' or output=logits (repeatable; JSON values)',
      keyValue,
    )
    .option(
      '--rate <limits>',
      'client-side rate limit on upstream requests: "N/s" or "N/min" (requests), "N rows/s" or "N rows/min", comma-separated',
      rate,
    )
    .option('--max-batch <n>', "most rows per upstream request (the target's own cap applies too)", positiveInt)
    .option('--timeout <seconds>', 'per-request timeout (default 30)', seconds)
    .option('--header <h>', 'extra HTTP header "Name: value" (repeatable), e.g. an API key', header);
}

/** The parsed target flags as run settings. */
export function targetSettings(o: Record<string, unknown>): Record<string, unknown> {
  return {
    format: o.format,
    formatOptions: o.formatOption,
    rate: o.rate,
    maxBatch: o.maxBatch,
    timeoutMs: o.timeout,
    headers: o.header,
  };
}
