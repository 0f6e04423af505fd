/**
 * @file `heist audit verify | export | prune`: flags -> runs/audit-run.ts; prints the result. A
 * chain that does not verify prints its first bad record and ends with HEIST_ERR_AUDIT_TAMPERED.
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { Command } from 'commander';
import { HeistError } from '../../core/errors.js';
import { exportAuditRun, pruneAuditRun, verifyAuditRun } from '../../runs/audit-run.js';
import { detectors, replayAuditRun } from '../../runs/audit-replay-run.js';
import { CSV_COLUMNS } from '../../store/audit-export.js';
import { describeChoices, jsonValue, oneOf, registryChoice, time } from '../options.js';

const AUDIT = ['--audit <url>', 'the audit log: sqlite://path/to/audit.db or postgres://user@host:port/db'] as const;
const KEY = [
  '--hmac-key-env <var>',
  'environment variable holding the HMAC key the log was written with (hashes are plain SHA-256 without it)',
] as const;

function verifyCommand(): Command {
  return new Command('verify')
    .description("Walk every hash chain from its start; print each log's record count and head hash.")
    .requiredOption(...AUDIT)
    .option('--log <name>', 'verify only this log (chain)')
    .option(...KEY)
    .option('--json', 'print the report as JSON', false)
    .action(async (o) => {
      const r = await verifyAuditRun({ audit: o.audit, log: o.log, hmacKeyEnv: o.hmacKeyEnv });
      if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        const lines = [
          `${r.url}: ${r.ok ? 'ok' : 'DOES NOT VERIFY'}, ${r.records} records in ${r.logs.length} log${r.logs.length === 1 ? '' : 's'}`,
          ...r.logs.map((l) => `  log ${l.log}: ${l.records} records from seq ${l.fromSeq}, head ${l.head}`),
        ];
        if (r.firstBad)
          lines.push(`first bad record: log ${r.firstBad.log} seq ${r.firstBad.seq}: ${r.firstBad.reason}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (r.firstBad)
        throw new HeistError(
          'HEIST_ERR_AUDIT_TAMPERED',
          `log ${r.firstBad.log} seq ${r.firstBad.seq}: ${r.firstBad.reason}`,
        );
    });
}

function exportCommand(): Command {
  return new Command('export')
    .description(
      `Write the records as JSON lines (one record per line, rows nested) or CSV (one line per row; columns ${CSV_COLUMNS.join(', ')}).`,
    )
    .requiredOption(...AUDIT)
    .option('--since <time>', 'only records at or after this ISO date-time or epoch ms', time)
    .option('--until <time>', 'only records at or before this ISO date-time or epoch ms', time)
    .option('--log <name>', 'only this log (chain)')
    .option('--format <format>', 'jsonl or csv', oneOf(['jsonl', 'csv'] as const), 'jsonl')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (o) => {
      const out = o.out ? createWriteStream(o.out) : process.stdout;
      const r = await exportAuditRun(
        { audit: o.audit, format: o.format, since: o.since, until: o.until, log: o.log },
        out,
      );
      if (o.out) {
        out.end();
        await finished(out);
      }
      process.stderr.write(`exported ${r.records} records from ${r.url}${o.out ? ` to ${o.out}` : ''}\n`);
    });
}

function pruneCommand(): Command {
  return new Command('prune')
    .description(
      'Delete whole records older than a time, re-anchoring each chain so the rest still verifies (refused on a chain that does not verify).',
    )
    .requiredOption(...AUDIT)
    .requiredOption('--before <time>', 'delete records before this ISO date-time or epoch ms', time)
    .option(...KEY)
    .action(async (o) => {
      const r = await pruneAuditRun({ audit: o.audit, before: o.before, hmacKeyEnv: o.hmacKeyEnv });
      process.stdout.write(
        `${r.url}: pruned ${r.pruned} records older than ${new Date(o.before).toISOString()}; ${r.left} left\n`,
      );
    });
}

function replayCommand(): Command {
  return new Command('replay')
    .description(
      "Run a detector offline over the log's served requests, as it would have run live (forensics); print each client's first verdict.",
    )
    .requiredOption(...AUDIT)
    .requiredOption('--detector <name>', `the detector: ${describeChoices(detectors())}`, registryChoice(detectors()))
    .option('--options <json>', "the detector's options as JSON (default: its example options)", jsonValue)
    .option('--model <name>', 'only records of this served model')
    .option('--client <id>', 'only records of this client (key:<id> or ip:<address>)')
    .option('--since <time>', 'only records at or after this ISO date-time or epoch ms', time)
    .option('--until <time>', 'only records at or before this ISO date-time or epoch ms', time)
    .option(...KEY)
    .option('--json', 'print the report as JSON', false)
    .action(async (o) => {
      const r = await replayAuditRun({
        audit: o.audit,
        hmacKeyEnv: o.hmacKeyEnv,
        detector: o.detector,
        options: o.options,
        model: o.model,
        client: o.client,
        since: o.since,
        until: o.until,
      });
      if (o.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const flagged = r.clients.filter((c) => c.firstVerdict);
      const lines = [
        `${r.url}: ${r.detector} replayed over ${r.records} requests (${r.rows} rows) of ${r.clients.length} clients; ${flagged.length} flagged`,
        ...r.clients.map((c) =>
          c.firstVerdict
            ? `  ${c.client}: ${c.firstVerdict.reason} after ${c.firstVerdict.afterRows} rows (log ${c.firstVerdict.log} seq ${c.firstVerdict.seq}, ${new Date(c.firstVerdict.at).toISOString()}); ${c.flaggedRequests} of ${c.requests} requests flagged`
            : `  ${c.client}: not flagged (${c.requests} requests, ${c.rows} rows)`,
        ),
      ];
      if (r.rowsWithoutInput > 0) lines.push(`  ${r.rowsWithoutInput} rows skipped: the log kept their hash only`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

export function auditCommand(): Command {
  return new Command('audit')
    .description(
      "The gateway's tamper-evident audit log: verify its hash chains, export it, prune old records, replay a detector over it.",
    )
    .addCommand(verifyCommand())
    .addCommand(exportCommand())
    .addCommand(pruneCommand())
    .addCommand(replayCommand());
}
