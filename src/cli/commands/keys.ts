/** @file `heist keys create|list|revoke`: API keys in a key file, stored hashed. */
import { Command } from 'commander';
import { createKey, listKeys, parseExpiry, revokeKey } from '../../runs/keys-run.js';

const fileOption = ['--keys <file>', 'the key file (heist.keys/v1 JSON)', 'keys.json'] as const;

export function keysCommand(): Command {
  const keys = new Command('keys').description(
    'Issue, list and revoke the API keys a gateway accepts (the file keeps only SHA-256 digests).',
  );
  keys
    .command('create')
    .description('Issue a key for a tier; the whole key is printed once and never stored.')
    .requiredOption('--tier <name>', 'the tier whose limits the key gets (a tier of the deployment file)')
    .option(...fileOption)
    .option('--expires <when>', 'expiry: 30d, 12h, 90m or an ISO date (default: never)')
    .option('--label <text>', 'a note for the owner, e.g. the customer')
    .option('--json', 'print {key, id, tier, expiresAt} as JSON', false)
    .action((o) => {
      const issued = createKey({
        file: o.keys,
        tier: o.tier,
        ...(o.expires ? { expiresAt: parseExpiry(o.expires) } : {}),
        ...(o.label ? { label: o.label } : {}),
      });
      const r = issued.record;
      if (o.json) {
        process.stdout.write(
          `${JSON.stringify({ key: issued.key, id: r.id, tier: r.tier, expiresAt: r.expiresAt ?? null })}\n`,
        );
        return;
      }
      process.stdout.write(
        `${issued.key}\n` +
          `key id ${r.id}, tier ${r.tier}${r.expiresAt ? `, expires ${new Date(r.expiresAt).toISOString()}` : ''}; written to ${o.keys}\n` +
          'This is the only time the key is shown: clients send it in the x-api-key header.\n',
      );
    });
  keys
    .command('list')
    .description('List the keys (ids, tiers, expiry and revocation; never the secrets).')
    .option(...fileOption)
    .action((o) => {
      const now = Date.now();
      for (const k of listKeys(o.keys)) {
        const state =
          k.revokedAt !== undefined
            ? 'revoked'
            : k.expiresAt !== undefined && k.expiresAt <= now
              ? 'expired'
              : 'active';
        process.stdout.write(
          `${k.id}  ${k.tier.padEnd(12)} ${state.padEnd(8)} created ${new Date(k.createdAt).toISOString()}${k.expiresAt ? `  expires ${new Date(k.expiresAt).toISOString()}` : ''}${k.label ? `  ${k.label}` : ''}\n`,
        );
      }
    });
  keys
    .command('revoke')
    .description('Revoke a key by id; gateways watching the file refuse it within a second.')
    .argument('<id>', 'the key id (the 12 hex digits after hk_)')
    .option(...fileOption)
    .action((id: string, o) => {
      const k = revokeKey(o.keys, id);
      process.stdout.write(`revoked ${k.id} (tier ${k.tier})\n`);
    });
  return keys;
}
