/**
 * @file `heist serve` as a function: load model files with onnxruntime, build the gateway, listen.
 * The model's name is its ONNX metadata name, else the file name without extension.
 */
import { basename, extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HeistError } from '../core/errors.js';
import { systemClock, silentLogger, type Logger } from '../core/types.js';
import { type DefenseSpec, createDefenses } from '../defenses/index.js';
import { createPipeline } from '../defenses/pipeline.js';
import { buildGateway } from '../gateway/server.js';
import { openAuditStore, type AuditStore } from '../store/index.js';
import { loadOnnxModel } from '../backends/onnx-model.js';
import { isTreeFile, loadTreeModel } from '../models/tree.js';
import type { Predictor } from '../core/prediction.js';
import { loadTinyLm, nextLogits } from '../models/tiny-lm.js';

export interface ServeOptions {
  readonly models: readonly string[];
  /** Language model files (heist.tiny-lm/v1 JSON) served on POST /v1/completions. */
  readonly lms?: readonly string[];
  readonly port?: number;
  readonly host?: string;
  readonly maxBatch?: number;
  readonly logger?: boolean;
  /** Audit log URL, e.g. sqlite://runs/audit.db: every answered or refused row is recorded. */
  readonly audit?: string;
  /** Round served probabilities to this many decimals (Tramèr et al.'s rounding countermeasure). */
  readonly round?: number;
  /** Further defense stages by registry name, applied in order after rounding (the audit log records last). */
  readonly defenses?: readonly DefenseSpec[];
  readonly log?: Logger;
}

export interface RunningGateway {
  readonly app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly modelNames: readonly string[];
  /** Names of the language models served on /v1/completions. */
  readonly lmNames?: readonly string[];
  readonly auditStore?: AuditStore;
  close(): Promise<void>;
}

export async function startGateway(opts: ServeOptions): Promise<RunningGateway> {
  if (opts.models.length === 0 && (opts.lms ?? []).length === 0) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      'heist serve needs at least one --model <file.onnx> or --lm <file.json>',
    );
  }
  const languageModels = (opts.lms ?? []).map((path) => {
    const lm = loadTinyLm(path);
    return {
      name: lm.name || basename(path, extname(path)),
      nextLogits: (tokens: readonly number[]) => nextLogits(lm, tokens),
    };
  });
  const loaded: { name: string; predictor: Predictor & { close(): Promise<void> } }[] = [];
  for (const path of opts.models) {
    const fallback = basename(path, extname(path)).replace(/\.tree$/, '');
    // A *.tree.json file is a decision tree (heist.tree/v1): answers carry leaf ids, null inputs are missing features.
    const predictor = isTreeFile(path) ? loadTreeModel(path) : await loadOnnxModel(path, { name: undefined });
    const name = predictor.info.name && predictor.info.name !== 'model' ? predictor.info.name : fallback;
    loaded.push({ name, predictor });
  }
  const names = loaded.map((m) => m.name);
  const lmNames = languageModels.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new HeistError('HEIST_ERR_BAD_CONFIG', `two models are named "${dup}"`);
  const store = opts.audit ? openAuditStore(opts.audit) : undefined;
  const spillPath = opts.audit ? `${opts.audit.replace(/^[a-z]+:\/\//i, '')}.spill.jsonl` : '';
  const deps = { clock: systemClock, log: opts.log ?? silentLogger, ...(store ? { audit: { store, spillPath } } : {}) };
  const specs: DefenseSpec[] = [
    ...(opts.round !== undefined ? [{ name: 'round', options: { decimals: opts.round } }] : []),
    ...(opts.defenses ?? []),
    ...(store ? [{ name: 'audit-log' }] : []),
  ];
  const models = loaded.map((m) => ({
    ...m,
    // Each model gets its own pipeline instance; the store is shared. Transforms run before the audit log records what was served.
    pipeline: specs.length > 0 ? createPipeline(createDefenses(specs, deps), { log: deps.log }) : undefined,
  }));
  const app = buildGateway({ models, maxBatch: opts.maxBatch, logger: opts.logger ?? false }, { languageModels });
  const address = await app.listen({ port: opts.port ?? 8080, host: opts.host ?? '127.0.0.1' });
  return {
    app,
    url: address.replace('[::1]', '127.0.0.1'),
    modelNames: names,
    lmNames,
    auditStore: store,
    close: async () => {
      await app.close();
      for (const m of loaded) await m.predictor.close();
      store?.close();
    },
  };
}
