/** @file `heist report DIR/run.json`: re-render DIR/report.html from the run record alone. */
import { Command } from 'commander';
import { renderReport } from '../../report/index.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('Re-render report.html next to a run.json, without re-running anything.')
    .argument('<run.json>', 'a heist.run/v1 record written by steal')
    .action(async (path: string) => {
      const out = await renderReport(path);
      process.stdout.write(`report: ${out}\n`);
    });
}
