/**
 * @file The training-engine registry: engine name -> factory of TrainNets. `onnxruntime` (the
 * default: one native onnxruntime graph per step, ort-net.ts) and `tfjs-wasm` (tfjs on its
 * WebAssembly backend with Heist's kernel shims, tfjs-net.ts). HEIST_TRAIN_ENGINE picks another
 * default, HEIST_TRAIN_THREADS the engine's intra-op thread count and HEIST_TRAIN_WORKERS the
 * threads each mini-batch is split across (data parallelism); docs/architecture.md has the
 * measurements.
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { Registry, type RegistryEntry } from '../core/registry.js';
import type { NetworkSpec } from '../models/network-spec.js';
import { OrtNet } from './ort-net.js';
import { nchwcBlockSize } from './ort-nchwc.js';
import { warmStepWorkers } from './step-parallel.js';
import { TfNet, initTfjs } from './tfjs.js';
import type { TrainNet } from './train-net.js';

export interface TrainEngineDeps {
  readonly spec: NetworkSpec;
  /** Intra-op threads the engine may use (the tfjs wasm engine always uses one). */
  readonly threads: number;
  /** Threads a fit splits each mini-batch across, the calling one included (default 1). */
  readonly workers?: number;
}

export interface TrainEngineEntry extends RegistryEntry<Record<string, never>, TrainEngineDeps, Promise<TrainNet>> {
  /** Whether a fit can split its mini-batches across worker threads (TrainEngineDeps.workers > 1). */
  readonly dataParallel: boolean;
  /** Starts, without waiting, what fits with `workers` threads will need (warmUpTraining). */
  readonly warmUp?: (workers: number) => void;
}

const onnxruntime: TrainEngineEntry = {
  name: 'onnxruntime',
  summary:
    "onnxruntime's native CPU kernels: forward, backward and loss as one ONNX graph per step, Adam in WebAssembly SIMD; mini-batches split across HEIST_TRAIN_WORKERS threads",
  options: z.object({}).strict(),
  dataParallel: true,
  warmUp: (workers) => {
    void nchwcBlockSize();
    warmStepWorkers(workers - 1);
  },
  create: async (_o, deps) => new OrtNet(deps.spec, { threads: deps.threads, workers: deps.workers }),
};

const tfjsWasm: TrainEngineEntry = {
  name: 'tfjs-wasm',
  summary: 'tfjs on its WebAssembly backend (XNNPACK, one thread) with Heist kernel shims and a JS Adam',
  options: z.object({}).strict(),
  dataParallel: false,
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

/** A positive integer from the environment variable `name`, else 1. */
function positiveIntegerEnv(name: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `${name} must be a positive integer, not "${raw}"`);
  return n;
}

/** HEIST_TRAIN_THREADS (a positive integer), else 1. */
export function defaultTrainThreads(): number {
  return positiveIntegerEnv('HEIST_TRAIN_THREADS');
}

/** HEIST_TRAIN_WORKERS (a positive integer), else 1. */
export function defaultTrainWorkers(): number {
  return positiveIntegerEnv('HEIST_TRAIN_WORKERS');
}

/**
 * Checks an engine name with a thread and worker count (by default the environment's) before a
 * run spends anything: an unknown engine, a bad HEIST_TRAIN_THREADS or HEIST_TRAIN_WORKERS, and
 * workers for an engine that cannot split its mini-batches are HEIST_ERR_BAD_CONFIG.
 */
export function checkTrainSettings(
  engine = defaultTrainEngine(),
  threads = defaultTrainThreads(),
  workers = defaultTrainWorkers(),
): void {
  const entry = trainEngines.get(engine);
  if (workers > 1 && !entry.dataParallel)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `the ${engine} engine trains on one thread; it cannot split mini-batches across ${workers} (HEIST_TRAIN_WORKERS)`,
    );
  if (!(Number.isInteger(threads) && threads >= 1 && Number.isInteger(workers) && workers >= 1))
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `threads and workers must be positive integers, not ${threads} and ${workers}`,
    );
}

/**
 * Lets the engine start ahead of time what its fits will need (the onnxruntime engine: its worker
 * threads and its NCHWc probe), so that a run overlaps that with buying queries. Call it after
 * checkTrainSettings.
 */
export function warmUpTraining(engine = defaultTrainEngine(), workers = defaultTrainWorkers()): void {
  trainEngines.get(engine).warmUp?.(workers);
}

/** A TrainNet for `spec` from the named engine (default: defaultTrainEngine()). */
export function createTrainNet(
  spec: NetworkSpec,
  engine = defaultTrainEngine(),
  threads = defaultTrainThreads(),
  workers = defaultTrainWorkers(),
): Promise<TrainNet> {
  checkTrainSettings(engine, threads, workers);
  return trainEngines.create(engine, {}, { spec, threads, workers });
}
