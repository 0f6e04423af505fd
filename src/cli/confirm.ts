/** @file The CLI's answer to a run's cost summary: print it, and on a terminal ask before buying (unless --yes). */
import { createInterface } from 'node:readline/promises';
import { HeistError } from '../core/errors.js';
import { type Confirm, formatSummary } from '../runs/cost-summary.js';

export function confirmOnTerminal(yes: boolean): Confirm {
  return async (summary) => {
    process.stderr.write(`${formatSummary(summary)}\n`);
    if (yes || !process.stdin.isTTY || !process.stderr.isTTY) return;
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = (await rl.question('buy them? [y/N] ')).trim().toLowerCase();
      if (answer !== 'y' && answer !== 'yes')
        throw new HeistError('HEIST_ERR_BAD_CONFIG', 'stopped before buying anything (answer y, or pass --yes)');
    } finally {
      rl.close();
    }
  };
}
