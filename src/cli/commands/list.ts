/** @file `heist list [role]`: every registry's entries (name, summary, paper), read from the registries. */
import { Command } from 'commander';
import { trainEngines } from '../../backends/train-engines.js';
import { extractors } from '../../attacks/extract/index.js';
import { textExtractors } from '../../attacks/extract/llm/index.js';
import { HeistError } from '../../core/errors.js';
import { defenses } from '../../defenses/index.js';
import { wireFormats } from '../../oracle/formats/index.js';
import { recipes } from '../../recipes/index.js';
import { reporters } from '../../report/index.js';
import { auditStores } from '../../store/index.js';
import { limitStores } from '../../store/limits/index.js';
import { strategies } from '../../strategies/index.js';
import { surrogates } from '../../surrogates/index.js';

interface Listed {
  readonly role: string;
  entries(): readonly { readonly name: string; readonly summary: string; readonly paper?: string }[];
}

/** Role name (the argument of `heist list`) -> registry. */
export const roles: Readonly<Record<string, Listed>> = {
  recipes,
  strategies,
  surrogates,
  'training-engines': trainEngines,
  extractors,
  'text-extractors': textExtractors,
  defenses,
  'wire-formats': wireFormats,
  reporters,
  'audit-stores': auditStores,
  'limit-stores': limitStores,
};

export function listCommand(): Command {
  return new Command('list')
    .description(`List what each extension role offers: ${Object.keys(roles).join(', ')}.`)
    .argument('[role]', `one of ${Object.keys(roles).join(', ')} (default: all)`)
    .action((role: string | undefined) => {
      if (role !== undefined && !Object.hasOwn(roles, role)) {
        throw new HeistError(
          'HEIST_ERR_BAD_CONFIG',
          `unknown role "${role}" (known: ${Object.keys(roles).join(', ')})`,
        );
      }
      for (const [name, registry] of Object.entries(roles)) {
        if (role !== undefined && name !== role) continue;
        process.stdout.write(`${name}\n`);
        for (const e of registry.entries())
          process.stdout.write(`  ${e.name}: ${e.summary}${e.paper ? `\n    paper: ${e.paper}` : ''}\n`);
      }
    });
}
