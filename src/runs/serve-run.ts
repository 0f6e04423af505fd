/**
 * @file `heist serve` as a function: load model files with onnxruntime, build the gateway, listen.
 * The model's name is its ONNX metadata name, else the file name without extension.
 */
import { basename, extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HeistError } from '../core/errors.js';
import { buildGateway } from '../gateway/server.js';
import { loadOnnxModel } from '../models/onnx-model.js';

export interface ServeOptions {
  readonly models: readonly string[];
  readonly port?: number;
  readonly host?: string;
  readonly maxBatch?: number;
  readonly logger?: boolean;
}

export interface RunningGateway {
  readonly app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly modelNames: readonly string[];
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
  const app = await buildGateway({ models: loaded, maxBatch: opts.maxBatch, logger: opts.logger ?? false });
  const address = await app.listen({ port: opts.port ?? 8080, host: opts.host ?? '127.0.0.1' });
  return {
    app,
    url: address.replace('[::1]', '127.0.0.1'),
    modelNames: names,
    close: async () => {
      await app.close();
      for (const m of loaded) await m.predictor.close();
    },
  };
}
