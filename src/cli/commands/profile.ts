/** @file `heist profile --config FILE`: print the deployment's security profile (Markdown). */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { profileFile } from '../../runs/profile-run.js';

export function profileCommand(): Command {
  return new Command('profile')
    .description(
      "Print a deployment's security profile: what each route reveals, the defenses per model, who may ask and how much, and the fail modes. Starts nothing.",
    )
    .requiredOption('--config <file.yaml>', 'the heist.gateway/v1 deployment file')
    .option('--out <file.md>', 'write it here instead of stdout')
    .action(async (o) => {
      const text = await profileFile(o.config);
      if (o.out) writeFileSync(o.out, `${text}\n`);
      else process.stdout.write(`${text}\n`);
    });
}
