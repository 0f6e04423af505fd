/** @file `heist serve`: put the gateway in front of one or more models, from a deployment file or flags. */
import { Command } from 'commander';
import { type DefenseSpec, defenses } from '../../defenses/index.js';
import { startGateway } from '../../runs/serve-run.js';
import { defenseSpec, describeChoices, nonNegativeInt, port, positiveInt } from '../options.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'Serve classifiers over HTTP (POST /v1/models/NAME/predict, GET /v1/models, GET /healthz, GET /openapi.json) and language models (--lm) on POST /v1/completions and /v1/chat/completions, behind API keys, rate limits and a hash-chained audit log. A deployment file (--config) says everything; the flags cover the one-model case.',
    )
    .option(
      '--config <file.yaml>',
      'a heist.gateway/v1 deployment file: models, defenses, keys, tiers, limits, audit, fail modes (see docs/gateway.md)',
    )
    .option(
      '--model <file.onnx...>',
      'model file(s) to serve (repeatable): .onnx, or a decision tree .tree.json (answers carry leaf ids; null inputs = missing features)',
      [],
    )
    .option(
      '--lm <file.json...>',
      'language model file(s) (heist.tiny-lm/v1) to serve on POST /v1/completions (repeatable)',
      [],
    )
    .option('--keys <file>', 'API keys (heist.keys/v1, made by heist keys create): requests need one, in x-api-key')
    .option('--anonymous', 'also serve requests without a key, identified by IP (no limits)', false)
    .option('--admin-key-env <VAR>', 'environment variable holding the admin key (admin routes, /metrics)')
    .option(
      '--secret-env <VAR>',
      'environment variable holding the secret that keys per-input randomness (gaussian-noise); the same on every replica',
    )
    .option('--port <n>', "TCP port (0 = any free port; default 8080, or the file's listen.port)", port)
    .option('--host <addr>', "address to bind (default 127.0.0.1, or the file's listen.host)")
    .option('--max-batch <n>', 'largest batch one request may carry (default 1024)', positiveInt)
    .option(
      '--audit <url>',
      'audit log: sqlite://runs/audit.db or postgres://user@host/db (one durable, hash-chained record per request, served or refused)',
    )
    .option(
      '--audit-fail-open',
      'answer even when the audit log cannot record (logged as an error); default: refuse with 503',
      false,
    )
    .option(
      '--round <decimals>',
      'round served probabilities to this many decimal places (rounding countermeasure)',
      nonNegativeInt,
    )
    .option(
      '--defense <name[=options]>',
      `a defense stage by name, options as JSON (repeatable, applied in order after --round; see heist list defenses): ${describeChoices(defenses)}`,
      defenseSpec(defenses),
      [] as DefenseSpec[],
    )
    .option('--log', 'log every request (pino JSON lines on stdout; errors are always logged)', false)
    .action(async (o) => {
      const gw = await startGateway({
        ...(o.config ? { config: o.config } : {}),
        models: o.model,
        lms: o.lm,
        ...(o.keys ? { keys: o.keys } : {}),
        anonymous: o.anonymous,
        ...(o.adminKeyEnv ? { adminKeyEnv: o.adminKeyEnv } : {}),
        ...(o.secretEnv ? { secretEnv: o.secretEnv } : {}),
        ...(o.port !== undefined ? { port: o.port } : {}),
        ...(o.host !== undefined ? { host: o.host } : {}),
        ...(o.maxBatch !== undefined ? { maxBatch: o.maxBatch } : {}),
        logger: o.log,
        ...(o.audit ? { audit: o.audit } : {}),
        auditFailOpen: o.auditFailOpen,
        ...(o.round !== undefined ? { round: o.round } : {}),
        defenses: o.defense,
      });
      const lines = [
        ...gw.modelNames.map((n) => `  ${gw.url}/v1/models/${n}`),
        ...(gw.lmNames ?? []).map((n) => `  ${gw.url}/v1/completions (model "${n}")`),
      ];
      process.stdout.write(`heist gateway on ${gw.url}\n${lines.join('\n')}\n`);
      let stopping = false;
      const stop = async (): Promise<void> => {
        if (stopping) return;
        stopping = true;
        // Drain in-flight requests and flush the audit log before exiting.
        await gw.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}
