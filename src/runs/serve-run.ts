/**
 * @file `heist serve` as a function: load model files with onnxruntime, build the gateway, listen.
 * The model's name is its ONNX metadata name, else the file name without extension.
 */
import { basename, extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HeistError } from '../core/errors.js';
import { systemClock, silentLogger, type Logger } from '../core/types.js';
import { auditLog } from '../defenses/audit-log.js';
import { createPipeline } from '../defenses/pipeline.js';
import { buildGateway } from '../gateway/server.js';
import { openAuditStore, type AuditStore } from '../store/index.js';
import { loadOnnxModel } from '../models/onnx-model.js';

export interface ServeOptions {
  readonly models: readonly string[];
  readonly port?: number;
  readonly host?: string;
  readonly maxBatch?: number;
  readonly logger?: boolean;
  /** Audit log URL, e.g. sqlite://runs/audit.db: every answered or refused row is recorded. */
  readonly audit?: string;
  readonly log?: Logger;
}

export interface RunningGateway {
  readonly app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly modelNames: readonly string[];
  readonly auditStore?: AuditStore;
  close(): Promise<void>;
}

export async function startGateway(opts: ServeOptions): Promise<RunningGateway> {
  if (opts.models.length === 0) throw new HeistError('HEIST_ERR_BAD_CONFIG', 'heist serve needs at least one --model <file.onnx>');
  const loaded: { name: string; predictor: Awaited<ReturnType<typeof loadOnnxModel>> }[] = [];
  for (const path of opts.models) {
    const fallback = basename(path, extname(path));
    const predictor = await loadOnnxModel(path, { name: undefined });
    const name = predictor.info.name && predictor.info.name !== 'model' ? predictor.info.name : fallback;
    loaded.push({ name, predictor });
  }
  const names = loaded.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new HeistError('HEIST_ERR_BAD_CONFIG', `two models are named "${dup}"`);
  const store = opts.audit ? openAuditStore(opts.audit) : undefined;
  const deps = { clock: systemClock, log: opts.log ?? silentLogger };
  const spillPath = opts.audit ? `${opts.audit.replace(/^[a-z]+:\/\//i, '')}.spill.jsonl` : '';
  const models = loaded.map((m) => ({
    ...m,
    // Each model gets its own pipeline instance; the store is shared.
    pipeline: store ? createPipeline([auditLog({ store, spillPath }, deps)], { log: deps.log }) : undefined,
  }));
  const app = buildGateway({ models, maxBatch: opts.maxBatch, logger: opts.logger ?? false });
  const address = await app.listen({ port: opts.port ?? 8080, host: opts.host ?? '127.0.0.1' });
  return {
    app,
    url: address.replace('[::1]', '127.0.0.1'),
    modelNames: names,
    auditStore: store,
    close: async () => {
      await app.close();
      for (const m of loaded) await m.predictor.close();
      store?.close();
    },
  };
}
