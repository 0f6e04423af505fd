/** @file `heist serve`: put the gateway in front of one or more ONNX models. */
import { Command } from 'commander';
import { type DefenseSpec, defenses } from '../../defenses/index.js';
import { startGateway } from '../../runs/serve-run.js';
import { defenseSpec, describeChoices, nonNegativeInt, port, positiveInt } from '../options.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'Serve ONNX classifiers over HTTP: POST /v1/models/NAME/predict, GET /v1/models, GET /healthz; and language models (--lm) on POST /v1/completions and /v1/chat/completions.',
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
    .option('--port <n>', 'TCP port (0 = any free port)', port, 8080)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--max-batch <n>', 'largest batch one request may carry', positiveInt, 1024)
    .option('--audit <url>', 'query audit log, e.g. sqlite://runs/audit.db (every row answered or refused)')
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
    .option('--log', 'log every request (pino JSON lines on stdout)', false)
    .action(async (o) => {
      const gw = await startGateway({
        models: o.model,
        lms: o.lm,
        port: o.port,
        host: o.host,
        maxBatch: o.maxBatch,
        logger: o.log,
        audit: o.audit,
        round: o.round,
        defenses: o.defense,
      });
      const lines = [
        ...gw.modelNames.map((n) => `  ${gw.url}/v1/models/${n}`),
        ...(gw.lmNames ?? []).map((n) => `  ${gw.url}/v1/completions (model "${n}")`),
      ];
      process.stdout.write(`heist gateway on ${gw.url}\n${lines.join('\n')}\n`);
      const stop = async (): Promise<void> => {
        await gw.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}
