/**
 * @file The training-engine registry: engine name -> factory of TrainNets. `onnxruntime` (the
 * default: one native onnxruntime graph per step, ort-net.ts) and `tfjs-wasm` (tfjs on its
 * WebAssembly backend with Heist's kernel shims, tfjs-net.ts). HEIST_TRAIN_ENGINE picks another
 * default and HEIST_TRAIN_THREADS the engine's thread count; docs/architecture.md has the measurements.
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { Registry, type RegistryEntry } from '../core/registry.js';
import type { NetworkSpec } from '../models/network-spec.js';
import { OrtNet } from './ort-net.js';
import { TfNet, initTfjs } from './tfjs.js';
import type { TrainNet } from './train-net.js';

export interface TrainEngineDeps {
  readonly spec: NetworkSpec;
  /** Threads the engine may use (the tfjs wasm engine always uses one). */
  readonly threads: number;
}

export type TrainEngineEntry = RegistryEntry<Record<string, never>, TrainEngineDeps, Promise<TrainNet>>;

const onnxruntime: TrainEngineEntry = {
  name: 'onnxruntime',
  summary: "onnxruntime's native CPU kernels: forward, backward, loss and Adam as one ONNX graph per step",
  options: z.object({}).strict(),
  create: async (_o, deps) => new OrtNet(deps.spec, { threads: deps.threads }),
};

const tfjsWasm: TrainEngineEntry = {
  name: 'tfjs-wasm',
  summary: 'tfjs on its WebAssembly backend (XNNPACK, one thread) with Heist kernel shims and a JS Adam',
  options: z.object({}).strict(),
  create: async (_o, deps) => {
    await initTfjs();
    return new TfNet(deps.spec);
  },
};

export const trainEngines = new Registry<TrainEngineDeps, Promise<TrainNet>, TrainEngineEntry>('training engine', [
  onnxruntime,
  tfjsWasm,
]);

/** HEIST_TRAIN_ENGINE, else 'onnxruntime'. */
export function defaultTrainEngine(): string {
  return process.env.HEIST_TRAIN_ENGINE || 'onnxruntime';
}

/** HEIST_TRAIN_THREADS (a positive integer), else 1. */
export function defaultTrainThreads(): number {
  const raw = process.env.HEIST_TRAIN_THREADS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `HEIST_TRAIN_THREADS must be a positive integer, not "${raw}"`);
  return n;
}

/** A TrainNet for `spec` from the named engine (default: defaultTrainEngine()). */
export function createTrainNet(
  spec: NetworkSpec,
  engine = defaultTrainEngine(),
  threads = defaultTrainThreads(),
): Promise<TrainNet> {
  return trainEngines.create(engine, {}, { spec, threads });
}
