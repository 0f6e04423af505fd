/** @file The `heist` binary: registers the commands and maps errors to exit codes. Nothing else. */
import { Command } from 'commander';
import { HeistError } from '../core/errors.js';
import { heistVersion } from '../runs/version.js';
import { auditCommand } from './commands/audit.js';
import { benchCommand } from './commands/bench.js';
import { recipesCommand } from './commands/recipes.js';
import { transferCommand } from './commands/transfer.js';
import { demoCommand } from './commands/demo.js';
import { extractCommand } from './commands/extract.js';
import { listCommand } from './commands/list.js';
import { keysCommand } from './commands/keys.js';
import { probeCommand } from './commands/probe.js';
import { profileCommand } from './commands/profile.js';
import { scanWebCommand } from './commands/scan-web.js';
import { reportCommand } from './commands/report.js';
import { serveCommand } from './commands/serve.js';
import { stealCommand } from './commands/steal.js';
import { trainCommand } from './commands/train.js';
import { verifyCommand } from './commands/verify.js';

// `heist audit export | head`: a reader that stops early is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command('heist')
  .description('Model-extraction security: steal (red team), serve behind a defended gateway, and compare models.')
  .version(heistVersion)
  .showHelpAfterError('(run with --help for usage)');

program.addCommand(demoCommand());
program.addCommand(stealCommand());
program.addCommand(extractCommand());
program.addCommand(trainCommand());
program.addCommand(serveCommand());
program.addCommand(keysCommand());
program.addCommand(profileCommand());
program.addCommand(reportCommand());
program.addCommand(probeCommand());
program.addCommand(scanWebCommand());
program.addCommand(auditCommand());
program.addCommand(verifyCommand());
program.addCommand(listCommand());
program.addCommand(recipesCommand());
program.addCommand(transferCommand());
program.addCommand(benchCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof HeistError) {
    process.stderr.write(`heist: ${e.code}: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`heist: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}
