/**
 * @file `heist demo`: the README's first command. Starts the gateway on a shipped victim on a free
 * loopback port, steals it over HTTP with the attacker's natural pool, prints fidelity and where
 * the report is, and stops the gateway.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { modelsDir } from '../../datasets/paths.js';
import { getScenario } from '../../datasets/scenarios.js';
import { createKey } from '../../runs/keys-run.js';
import { startGateway } from '../../runs/serve-run.js';
import { runSteal } from '../../runs/steal-run.js';
import { createTerminalReporter } from '../../report/reporters/terminal.js';
import { oneOf, positiveInt } from '../options.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'Serve a shipped victim on localhost (SQLite audit log) and steal it over HTTP (a few minutes on 2 cores).',
    )
    .option(
      '--scenario <name>',
      'victim and data: mnist-cnn | digits-mlp',
      oneOf(['mnist-cnn', 'digits-mlp'] as const),
      'mnist-cnn',
    )
    .option('--budget <n>', 'paid queries', positiveInt, 500)
    .option('--out <dir>', 'output folder', 'runs/demo')
    .action(async (o) => {
      const audit = join(o.out, 'audit.db');
      // A demo always starts fresh: drop the previous demo's transcript and audit log (only those files).
      for (const f of [
        'transcript.jsonl',
        'steal-config.json',
        'audit.db',
        'audit.db-wal',
        'audit.db-shm',
        'keys.json',
      ])
        rmSync(join(o.out, f), { force: true });
      // The attacker is a paying customer: one API key of tier "customer", as `heist keys create` issues it.
      const keyFile = join(o.out, 'keys.json');
      const { key } = createKey({ file: keyFile, tier: 'customer', label: 'demo attacker' });
      const gw = await startGateway({
        models: [join(modelsDir, `${o.scenario}.onnx`)],
        port: 0,
        keys: keyFile,
        audit: `sqlite://${audit}`,
      });
      try {
        const target = `${gw.url}/v1/models/${gw.modelNames[0]}`;
        process.stdout.write(
          `gateway: ${target}\nstealing with ${o.budget} queries from the ${o.scenario} attacker pool...\n`,
        );
        const checkpoints = [...getScenario(o.scenario).budgets.filter((b) => b < o.budget), o.budget];
        const rec = await runSteal(
          {
            target,
            budget: o.budget,
            pool: o.scenario,
            checkpoints,
            out: o.out,
            seed: 0,
            headers: { 'x-api-key': key },
          },
          {
            reporters: [createTerminalReporter({ stream: process.stderr })],
          },
        );
        for (const r of rec.rounds) {
          process.stdout.write(
            `  ${String(r.queriesUsed).padStart(6)} queries: fidelity ${r.metrics.fidelity?.toFixed(4)}  accuracy ${r.metrics.accuracy?.toFixed(4)}\n`,
          );
        }
        process.stdout.write(
          `fidelity ${rec.metrics.fidelity?.toFixed(4)} with ${rec.queries.used} queries (+${rec.queries.eval} for evaluation) in ${(rec.wallMs / 1000).toFixed(1)} s\n` +
            `gateway audit log: ${await gw.auditStore!.count()} requests, ${await gw.auditStore!.countRows()} rows in ${audit} (paid queries: ${rec.queries.total}); check it with heist audit verify --audit sqlite://${audit}\n` +
            `report: ${join(o.out, 'report.html')}\n`,
        );
      } finally {
        await gw.close();
      }
    });
}
