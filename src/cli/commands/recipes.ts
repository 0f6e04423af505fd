/** @file `heist recipes`: the published attacks `heist steal --recipe` runs, with their citations and parts. */
import { Command } from 'commander';
import { scheduleText } from '../../attacks/schedule.js';
import { recipes } from '../../recipes/index.js';

export function recipesCommand(): Command {
  return new Command('recipes')
    .description(
      'List the recipes of heist steal --recipe: each a published attack as a preset of strategy, substitute, labels, training and round schedule.',
    )
    .action(() => {
      for (const e of recipes.entries()) {
        const parts = recipes.create(e.name, {}, undefined);
        const shown = Object.entries({ ...parts, schedule: parts.schedule && scheduleText(parts.schedule) })
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`)
          .join(', ');
        process.stdout.write(
          `${e.name}: ${e.summary}\n${e.paper ? `  paper: ${e.paper}\n` : ''}  parts by default: ${shown || 'the policy defaults'}\n`,
        );
      }
    });
}
