/**
 * @file Data parallelism for the onnxruntime engine's training step: the main thread and N - 1
 * worker threads (ort-step-worker.ts) each run the same gradients graph on their own slice of a
 * mini-batch, and the main thread adds the slices' gradients in a fixed order (its own first, then
 * the sum of worker 1, 2, ...) in its one Adam step. The mean over the whole batch is kept by feeding
 * every slice 1 / (batch rows) as its loss and gradient scale, so the sum is the full batch's
 * gradient, and the same seed gives the same weights for the same worker count. It is the split
 * PyTorch's DistributedDataParallel makes across processes (Li et al., "PyTorch Distributed",
 * VLDB 2020), within one process: each slice is one thread's whole step, which suits small
 * batches better than intra-op threads, whose per-kernel fork and join cost more than a batch-32
 * CNN kernel (docs/architecture.md, "Training engines").
 *
 * onnxruntime-node refuses typed arrays over a SharedArrayBuffer, so the buffers below are only
 * the exchange: each worker copies its weights and rows out of them into its own arrays, and its
 * gradients back in. A worker's state word carries the hand-over (Atomics.wait/notify). The main
 * thread adds the workers' sum to its own gradient inside the Adam pass (simd-adam.ts, adam2).
 */
import type { Worker } from 'node:worker_threads';
import { HeistError } from '../core/errors.js';
import { startWorker } from './ts-worker.js';

/** The state word of a worker's control block. The main thread sets GO (from IDLE or DONE) and QUIT. */
export const STATE = { IDLE: 0, GO: 1, DONE: 2, FAILED: 3, QUIT: 4 } as const;
/** Int32 slots of the control block. */
export const CTRL = { state: 0, rows: 1 } as const;
/** Float64 slots after the Int32 ones. */
export const F64 = { invN: 0, loss: 1 } as const;
const HEADER_BYTES = 32;

/** What a lease hands its thread (inside a LeaseMessage). */
export interface StepWorkerData {
  readonly graph: Uint8Array;
  readonly paramShapes: readonly (readonly number[])[];
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly maxRows: number;
  /** One buffer for all workers: the weights of the coming step, parameter after parameter. */
  readonly weights: SharedArrayBuffer;
  /** This worker's control block, rows, targets and gradients. */
  readonly exchange: SharedArrayBuffer;
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The float32 arrays of an exchange buffer, in order after its header: rows, targets, gradients. */
function exchangeArrays(
  paramShapes: readonly (readonly number[])[],
  d: number,
  classes: number,
  maxRows: number,
): number[] {
  return [maxRows * d, maxRows * classes, ...paramShapes.map(count)];
}

/** Views of one worker's exchange buffer. */
export function exchangeViews(
  buffer: SharedArrayBuffer,
  paramShapes: readonly (readonly number[])[],
  d: number,
  classes: number,
  maxRows: number,
) {
  let at = HEADER_BYTES;
  const [x, targets, ...grads] = exchangeArrays(paramShapes, d, classes, maxRows).map((n) => {
    const v = new Float32Array(buffer, at, n);
    at += n * 4;
    return v;
  });
  return { ctrl: new Int32Array(buffer, 0, 4), f64: new Float64Array(buffer, 16, 2), x, targets, grads };
}

/** The size of one worker's exchange buffer. */
export function exchangeBytes(
  paramShapes: readonly (readonly number[])[],
  d: number,
  classes: number,
  maxRows: number,
) {
  return HEADER_BYTES + exchangeArrays(paramShapes, d, classes, maxRows).reduce((a, n) => a + n * 4, 0);
}

/** Views of the shared weights buffer, one per parameter. */
export function weightViews(buffer: SharedArrayBuffer, paramShapes: readonly (readonly number[])[]): Float32Array[] {
  let at = 0;
  return paramShapes.map((s) => {
    const v = new Float32Array(buffer, at, count(s));
    at += v.byteLength;
    return v;
  });
}

/** A thread of the process-wide pool: it serves one StepWorkers lease at a time, idle between. */
interface PoolThread {
  readonly worker: Worker;
  /** Exited or failed: never handed out again. */
  broken: boolean;
}

const idleThreads: PoolThread[] = [];
let leases = 0;

/**
 * An idle pool thread, or a new one. Threads outlive the nets that lease them, so that a run's
 * next substitute (a steal refits a fresh one every round) skips the 160-210 ms a thread takes
 * to start and load its modules.
 */
function takeThread(): PoolThread {
  for (let t = idleThreads.pop(); t; t = idleThreads.pop()) if (!t.broken) return t;
  return newThread();
}

function newThread(): PoolThread {
  const worker = startWorker(new URL('./ort-step-worker.ts', import.meta.url), {});
  // An idle thread must not keep the process alive.
  worker.unref();
  const thread: PoolThread = { worker, broken: false };
  const broke = () => {
    thread.broken = true;
    const i = idleThreads.indexOf(thread);
    if (i >= 0) idleThreads.splice(i, 1);
  };
  worker.on('error', broke);
  worker.on('exit', broke);
  return thread;
}

/**
 * Starts pool threads until `count` are idle, without waiting for them: a run calls this before it
 * buys its first queries, so that the threads load their modules while it does.
 */
export function warmStepWorkers(count: number): void {
  while (idleThreads.length < count) idleThreads.push(newThread());
}

/** How many pool threads are idle now. */
export function idleStepWorkers(): number {
  return idleThreads.length;
}

/** Stops the pool's idle threads (a bench that measures a cold start does this first). */
export async function closeIdleStepWorkers(): Promise<void> {
  const threads = idleThreads.splice(0);
  await Promise.all(threads.map((t) => t.worker.terminate()));
}

/** What a lease sends its thread (structured-cloned). */
export interface LeaseMessage {
  readonly lease: number;
  readonly data: StepWorkerData;
}

/** What a thread answers about a lease. */
export interface LeaseReply {
  readonly lease: number;
  readonly ready?: boolean;
  readonly error?: string;
}

interface Slot {
  readonly thread: PoolThread;
  readonly views: ReturnType<typeof exchangeViews>;
  readonly unlisten: () => void;
}

/** Worker threads leased from the pool by one OrtNet fit after fit, handed one slice per step. */
export class StepWorkers {
  /** How many worker threads (the main thread's slice is not counted). */
  readonly size: number;
  /** The most rows one worker's slice may hold. */
  readonly maxRows: number;
  private readonly weights: Float32Array[];
  private readonly slots: Slot[];
  private readonly ready: Promise<void>;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private closed = false;

  constructor(
    size: number,
    o: {
      graph: Uint8Array;
      paramShapes: readonly (readonly number[])[];
      inputShape: readonly number[];
      classes: number;
      maxRows: number;
    },
  ) {
    this.size = size;
    this.maxRows = o.maxRows;
    const lease = ++leases;
    const d = count(o.inputShape);
    const weights = new SharedArrayBuffer(o.paramShapes.reduce((a, s) => a + count(s), 0) * 4);
    this.weights = weightViews(weights, o.paramShapes);
    let fail: (e: Error) => void = () => undefined;
    this.failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.failed.catch(() => undefined);
    const onFailure = (e: Error) => {
      if (this.closed || this.failure) return;
      this.failure = new HeistError('HEIST_ERR_INTERNAL', `a training worker thread failed: ${e.message}`);
      fail(this.failure);
    };
    const readies: Promise<void>[] = [];
    this.slots = Array.from({ length: size }, () => {
      const thread = takeThread();
      const exchange = new SharedArrayBuffer(exchangeBytes(o.paramShapes, d, o.classes, o.maxRows));
      let resolve: () => void = () => undefined;
      readies.push(
        new Promise<void>((r) => {
          resolve = r;
        }),
      );
      const onMessage = (m: LeaseReply) => {
        if (m.lease !== lease) return;
        if (m.error) onFailure(new Error(m.error));
        else if (m.ready) resolve();
      };
      const onError = (e: Error) => onFailure(e);
      const onExit = (code: number) => onFailure(new Error(`exited with code ${code}`));
      thread.worker.on('message', onMessage);
      thread.worker.on('error', onError);
      thread.worker.on('exit', onExit);
      const message: LeaseMessage = { lease, data: { ...o, weights, exchange } };
      thread.worker.postMessage(message);
      return {
        thread,
        views: exchangeViews(exchange, o.paramShapes, d, o.classes, o.maxRows),
        unlisten: () => {
          thread.worker.off('message', onMessage);
          thread.worker.off('error', onError);
          thread.worker.off('exit', onExit);
        },
      };
    });
    this.ready = Promise.race([Promise.all(readies).then(() => undefined), this.failed]);
  }

  /** True once a worker failed: the lease cannot step again. */
  get broken(): boolean {
    return this.failure !== undefined;
  }

  /** Resolves when every worker has built its session. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /**
   * Hands worker j the rows of `parts[j]` ([start, end) of x's rows) with the current `weights`
   * and starts it; `finish` collects the gradients.
   */
  start(
    weights: readonly Float32Array[],
    x: Float32Array,
    targets: Float32Array,
    d: number,
    classes: number,
    parts: readonly (readonly [number, number])[],
    invN: number,
  ): void {
    if (this.failure) throw this.failure;
    weights.forEach((w, k) => {
      this.weights[k].set(w);
    });
    parts.forEach(([s, e], j) => {
      const v = this.slots[j].views;
      v.x.set(x.subarray(s * d, e * d));
      v.targets.set(targets.subarray(s * classes, e * classes));
      v.ctrl[CTRL.rows] = e - s;
      v.f64[F64.invN] = invN;
      Atomics.store(v.ctrl, CTRL.state, STATE.GO);
      Atomics.notify(v.ctrl, CTRL.state);
    });
  }

  /** Waits for the first `started` workers and returns the sum of their losses. */
  async finish(started: number): Promise<number> {
    let loss = 0;
    for (let j = 0; j < started; j++) {
      const v = this.slots[j].views;
      for (;;) {
        const s = Atomics.load(v.ctrl, CTRL.state);
        if (s === STATE.DONE) break;
        if (s === STATE.FAILED || this.failure) {
          await Promise.race([this.failed, new Promise((r) => setTimeout(r, 1000))]);
          throw this.failure ?? new HeistError('HEIST_ERR_INTERNAL', 'a training worker thread failed');
        }
        // Spin first, then block; every 100 ms the event loop gets a turn, so that a worker's
        // error or exit event can arrive.
        if (spinWhile(v.ctrl, s, 2)) continue;
        if (Atomics.wait(v.ctrl, CTRL.state, s, 100) === 'timed-out') await new Promise((r) => setImmediate(r));
      }
      loss += v.f64[F64.loss];
    }
    return loss;
  }

  /** Writes the sum of the first `started` workers' gradients, in worker order, into `into`. */
  sumGradients(started: number, into: readonly Float32Array[]): void {
    into.forEach((g, k) => {
      g.set(this.slots[0].views.grads[k]);
      for (let j = 1; j < started; j++) {
        const add = this.slots[j].views.grads[k];
        for (let i = 0; i < g.length; i++) g[i] += add[i];
      }
    });
  }

  /**
   * Ends the lease: each thread leaves its step loop, releases its session and goes back to the
   * pool; a thread of a failed lease is stopped instead.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) {
      Atomics.store(s.views.ctrl, CTRL.state, STATE.QUIT);
      Atomics.notify(s.views.ctrl, CTRL.state);
      s.unlisten();
      if (this.failure || s.thread.broken) void s.thread.worker.terminate();
      else idleThreads.push(s.thread);
    }
  }
}

/**
 * Spins while the state word still reads `state`, for at most `ms` milliseconds; true when it
 * changed. Between two steps a thread waits well under a millisecond, and a sleeping thread (or
 * the idle virtual CPU under it) can take a few hundred microseconds to wake: measured here, 0.3
 * ms of a 3.5 ms step. OpenMP runtimes, and so PyTorch, spin before they sleep for the same reason.
 */
export function spinWhile(ctrl: Int32Array, state: number, ms: number): boolean {
  const end = performance.now() + ms;
  for (;;) {
    for (let i = 0; i < 256; i++) if (Atomics.load(ctrl, CTRL.state) !== state) return true;
    if (performance.now() > end) return false;
  }
}

/** Splits `rows` into `parts` contiguous slices as equal as possible, the larger ones first. */
export function splitRows(rows: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  const base = Math.floor(rows / parts);
  let extra = rows % parts;
  let at = 0;
  for (let j = 0; j < parts; j++) {
    const n = base + (extra-- > 0 ? 1 : 0);
    if (n > 0) out.push([at, at + n]);
    at += n;
  }
  return out;
}
