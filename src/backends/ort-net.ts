/**
 * @file OrtNet: the onnxruntime training engine. A NetworkSpec-shaped classifier whose training
 * step runs its forward pass, backward pass and loss (ort-train-graph.ts) as one onnxruntime
 * session.run on the native CPU kernels (MLAS), and then Adam as one WebAssembly SIMD pass per
 * parameter (simd-adam.ts) over host-owned weights, updated in place. The runtime reads the
 * weights from those same buffers: no copy in, one gradient copy out. The host gathers
 * (and, for images, augments) each mini-batch, exactly as the tfjs engine does, so both engines see
 * the same batches for the same seed.
 */
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { HeistError } from '../core/errors.js';
import { type LayerSpec, type NetworkSpec, withWeights } from '../models/network-spec.js';
import { compileUnits, type Unit } from './net-units.js';
import { ONNX_OUTPUT_NAME, networkToOnnx } from './onnx-writer.js';
import { nchwcBlockSize } from './ort-nchwc.js';
import { STEP_IO, type StepGraphMode, buildStepGraph } from './ort-train-graph.js';
import { stepFeeds } from './ort-step-feeds.js';
import { SimdAdam } from './simd-adam.js';
import { StepWorkers, splitRows } from './step-parallel.js';
import type { NetFitOptions, NetFitResult, TrainNet } from './train-net.js';

export interface OrtNetOptions {
  /** onnxruntime intra-op threads (default 1: deterministic and polite on a shared machine). */
  readonly threads?: number;
  /**
   * Threads a fit's mini-batches are split across (step-parallel.ts), the main thread included;
   * default 1. The same seed gives the same weights for the same count.
   */
  readonly workers?: number;
}

/** A row-major [rows, cols] matrix transposed. Spec conv kernels [kh, kw, cin, cout] are the matrix
 * [kh kw cin, cout]; the runtime keeps them as [cout, kh, kw, cin] (OHWI), its transpose. */
function transpose2d(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/** A parameter's shape on the runtime side: conv kernels [kh, kw, cin, cout] become [cout, kh, kw, cin]. */
export function runtimeShape(specShape: readonly number[]): number[] {
  const s = specShape;
  return s.length === 4 ? [s[3], s[0], s[1], s[2]] : [...s];
}

export class OrtNet implements TrainNet {
  readonly inputShape: readonly number[];
  readonly classes: number;
  private readonly units: Unit[];
  /** Spec-layout shapes (conv [kh, kw, cin, cout]) and runtime-layout shapes (conv OHWI). */
  private readonly specShapes: number[][];
  private readonly runShapes: number[][];
  private readonly layers: readonly LayerSpec[];
  /** Adam's memory, which holds the weights in runtime layout; `params` wraps the same buffers. */
  private readonly adam: SimdAdam;
  private readonly weights: Float32Array[];
  private readonly params: OrtTensor[];
  private readonly sessions = new Map<StepGraphMode, Promise<InferenceSession>>();
  /** The inference graph of the current weights (ORT's own Conv kernels), rebuilt after they change. */
  private predictor: Promise<InferenceSession> | undefined;
  private readonly threads: number;
  private readonly workers: number;
  /** The fit's worker threads (workers - 1 of them), started by the first fit that uses them. */
  private pool: StepWorkers | undefined;
  private disposed = false;

  constructor(spec: NetworkSpec, options: OrtNetOptions = {}) {
    const { units, params, shapes } = compileUnits(spec.layers);
    this.inputShape = [...spec.inputShape];
    this.classes = spec.classes;
    this.layers = spec.layers;
    this.units = units;
    this.specShapes = shapes;
    this.runShapes = shapes.map(runtimeShape);
    this.threads = Math.max(1, Math.floor(options.threads ?? 1));
    this.workers = Math.max(1, Math.floor(options.workers ?? 1));
    // PyTorch's betas and epsilon; each fit sets the learning rate.
    this.adam = new SimdAdam(
      params.map((p) => p.length),
      { learningRate: 0 },
      { twoGradients: this.workers > 1 },
    );
    this.weights = this.adam.weights;
    params.forEach((p, k) => {
      this.weights[k].set(this.toRuntime(k, p));
    });
    this.params = this.weights.map((w, k) => new OrtTensor('float32', w, this.runShapes[k]));
  }

  private toRuntime(k: number, values: Float32Array): Float32Array {
    const s = this.specShapes[k];
    return s.length === 4 ? transpose2d(values, s[0] * s[1] * s[2], s[3]) : Float32Array.from(values);
  }

  private toSpec(k: number, values: Float32Array): Float32Array {
    const s = this.specShapes[k];
    return s.length === 4 ? transpose2d(values, s[3], s[0] * s[1] * s[2]) : Float32Array.from(values);
  }

  /**
   * Step graphs run at 'extended': the 'all' level's NCHWc layout pass wraps every pool and resize
   * of the backward pass in reorders that cost more than they save (profiled: 10 of 86 ms per CNN
   * step), and it skips convs whose weights are graph inputs; the step graph places its own NCHWc
   * ops instead (ort-train-graph.ts). The inference graph keeps 'all', which speeds its Conv kernels.
   */
  private options(level: 'extended' | 'all'): InferenceSession.SessionOptions {
    return {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: level,
      logSeverityLevel: 3,
    };
  }

  private async graph(mode: StepGraphMode): Promise<Uint8Array> {
    return buildStepGraph(
      {
        inputShape: this.inputShape,
        classes: this.classes,
        units: this.units,
        shapes: this.runShapes,
        nchwcBlock: await nchwcBlockSize(),
      },
      mode,
    );
  }

  private session(mode: StepGraphMode): Promise<InferenceSession> {
    if (this.disposed) throw new HeistError('HEIST_ERR_INTERNAL', 'training engine used after dispose()');
    let s = this.sessions.get(mode);
    if (!s) {
      s = this.graph(mode).then((bytes) => InferenceSession.create(bytes, this.options('extended')));
      this.sessions.set(mode, s);
    }
    return s;
  }

  /** The current network as a standard ONNX classifier (onnx-writer.ts), for predictions. */
  private predictSession(): Promise<InferenceSession> {
    if (this.disposed) throw new HeistError('HEIST_ERR_INTERNAL', 'training engine used after dispose()');
    if (!this.predictor) {
      const layers = withWeights(this.layers, this.readWeights());
      const bytes = networkToOnnx(
        { inputShape: this.inputShape, classes: this.classes, layers },
        { name: 'heist-substitute', domain: { min: 0, max: 1 } },
      );
      this.predictor = InferenceSession.create(bytes, this.options('all'));
    }
    return this.predictor;
  }

  /** Forgets the inference graph after the weights change. */
  private weightsChanged(): void {
    const old = this.predictor;
    this.predictor = undefined;
    old?.then((x) => x.release()).catch(() => undefined);
  }

  private paramFeeds(): Record<string, OrtTensor> {
    const feeds: Record<string, OrtTensor> = {};
    this.params.forEach((p, k) => {
      feeds[STEP_IO.param(k)] = p;
    });
    return feeds;
  }

  /** Current weights (copies), in spec order and spec layout. */
  readWeights(): Float32Array[] {
    return this.weights.map((w, k) => this.toSpec(k, w));
  }

  /** Replaces every weight (spec order and layout). */
  writeWeights(values: readonly Float32Array[]): void {
    values.forEach((v, k) => {
      if (v.length !== this.params[k].size)
        throw new HeistError('HEIST_ERR_SHAPE', `weight ${k} has ${v.length} values, expected ${this.params[k].size}`);
    });
    values.forEach((v, k) => {
      this.weights[k].set(this.toRuntime(k, v));
    });
    this.weightsChanged();
  }

  /** Softmax probabilities for n rows of flat inputs, in runs of `chunk` rows. */
  async predictProbs(data: Float32Array, n: number, chunk = 1024): Promise<Float32Array> {
    const session = await this.predictSession();
    const d = data.length / Math.max(n, 1);
    const out = new Float32Array(n * this.classes);
    for (let s = 0; s < n; s += chunk) {
      const e = Math.min(n, s + chunk);
      const x = new OrtTensor('float32', data.subarray(s * d, e * d), [e - s, ...this.inputShape]);
      const r = await session.run({ [session.inputNames[0]]: x });
      out.set(r[ONNX_OUTPUT_NAME].data as Float32Array, s * this.classes);
    }
    return out;
  }

  /** Mean cross-entropy and its gradients (spec order and layout) on n rows, no update. */
  async gradients(x: Float32Array, targets: Float32Array, n: number): Promise<{ loss: number; grads: Float32Array[] }> {
    const session = await this.session('gradients');
    const r = await session.run({
      ...this.paramFeeds(),
      ...stepFeeds(x, targets, n, this.inputShape, this.classes, 1 / n),
    });
    return {
      loss: (r[STEP_IO.loss].data as Float32Array)[0],
      grads: this.params.map((_, k) => this.toSpec(k, r[STEP_IO.grad(k)].data as Float32Array)),
    };
  }

  /** Row i: d CE(row i, targets i) / d x_i, each row's own loss (no 1/n), in the input layout. */
  async inputGradients(x: Float32Array, targets: Float32Array, n: number): Promise<Float32Array> {
    const session = await this.session('input-gradients');
    const r = await session.run({
      ...this.paramFeeds(),
      ...stepFeeds(x, targets, n, this.inputShape, this.classes, 1 / n, 1),
    });
    return Float32Array.from(r[STEP_IO.dx].data as Float32Array);
  }

  /** Worker threads able to take slices of `batch` rows, or undefined when the fit runs alone. */
  private async stepWorkers(batch: number): Promise<StepWorkers | undefined> {
    const size = Math.min(this.workers, batch) - 1;
    if (size < 1) return undefined;
    // A worker's slice is never larger than the main thread's (splitRows).
    const slice = Math.ceil(batch / (size + 1));
    if (this.pool && !this.pool.broken && this.pool.size === size && this.pool.maxRows >= slice) return this.pool;
    this.pool?.close();
    this.pool = new StepWorkers(size, {
      graph: await this.graph('gradients'),
      paramShapes: this.runShapes,
      inputShape: this.inputShape,
      classes: this.classes,
      maxRows: slice,
    });
    await this.pool.whenReady();
    return this.pool;
  }

  /**
   * Mini-batch Adam on cross-entropy to `targets` ([n, classes] rows summing to 1), from fresh
   * moments. Adam runs on the host: 13 element-wise graph nodes per parameter, with the weights and
   * both moments copied out of the runtime every step, cost more than the MLP's whole forward and
   * backward pass (docs/architecture.md, "Training engines"). With workers > 1 each mini-batch is
   * split into that many slices, one a thread, and their gradients are summed here in a fixed order.
   */
  async fit(x: Float32Array, targets: Float32Array, n: number, o: NetFitOptions): Promise<NetFitResult> {
    const session = await this.session('gradients');
    this.weightsChanged();
    const d = x.length / n;
    const c = this.classes;
    const batch = Math.max(1, Math.min(o.batchSize, n));
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const bx = new Float32Array(batch * d);
    const bt = new Float32Array(batch * c);
    const { adam } = this;
    adam.reset();
    const pool = await this.stepWorkers(batch);
    const feeds = this.paramFeeds();
    const totalSteps = o.epochs * Math.ceil(n / batch);
    // The next mini-batch: its place in the epoch, reshuffled at each epoch's start, gathered (and
    // augmented) into bx / bt. Same rows and the same Rng draws in the same order as a plain loop.
    let epoch = 0;
    let at = 0;
    const gather = (): number => {
      if (at === 0) o.shuffle(order);
      const rows = Math.min(n, at + batch) - at;
      for (let i = 0; i < rows; i++) {
        const r = order[at + i];
        bx.set(x.subarray(r * d, (r + 1) * d), i * d);
        bt.set(targets.subarray(r * c, (r + 1) * c), i * c);
      }
      o.augment?.(bx.subarray(0, rows * d), rows);
      return rows;
    };
    let step = 0;
    let seen = 0;
    let finalLoss = NaN;
    let lossSum = 0;
    try {
      let rows = o.epochs > 0 ? gather() : 0;
      while (rows > 0) {
        const xs = bx.subarray(0, rows * d);
        adam.setLearningRate(
          o.schedule === 'cosine'
            ? o.learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps))
            : o.learningRate,
        );
        step++;
        // The main thread's slice is the first; the workers take the rest (copied out here).
        const parts = pool ? splitRows(rows, pool.size + 1) : [[0, rows] as [number, number]];
        pool?.start(this.weights, xs, bt, d, c, parts.slice(1), 1 / rows);
        const out = await session.run({
          ...feeds,
          ...stepFeeds(xs, bt, parts[0][1], this.inputShape, c, 1 / rows),
        });
        adam.gradients.forEach((g, k) => {
          g.set(out[STEP_IO.grad(k)].data as Float32Array);
        });
        let loss = (out[STEP_IO.loss].data as Float32Array)[0];
        // bx is free again: the next batch is gathered while the workers finish their slices.
        at += batch;
        const epochDone = at >= n;
        if (epochDone) at = 0;
        const lastStep = epochDone && epoch + 1 >= o.epochs;
        const next = lastStep ? 0 : gather();
        const started = parts.length - 1;
        if (pool && started > 0) {
          loss += await pool.finish(started);
          pool.sumGradients(started, adam.secondGradients);
        }
        adam.stepFromGradients(started > 0);
        lossSum += loss * rows;
        seen += rows;
        if (epochDone) {
          finalLoss = lossSum / n;
          lossSum = 0;
          o.onEpoch?.(epoch, finalLoss);
          epoch++;
        }
        rows = next;
      }
    } catch (e) {
      // A step that failed half-way may leave a worker mid-slice: end the lease (its threads
      // quit their step loop) so that the next fit starts from a fresh one.
      this.pool?.close();
      this.pool = undefined;
      throw e;
    }
    return { epochs: o.epochs, samplesSeen: seen, finalLoss };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.sessions.values()) s.then((x) => x.release()).catch(() => undefined);
    this.sessions.clear();
    this.pool?.close();
    this.pool = undefined;
    this.weightsChanged();
  }
}
