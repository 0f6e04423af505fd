/**
 * @file The one Surrogate implementation every arch shares: a NetworkSpec-shaped network trained
 * by a training engine (backends/train-engines.ts: onnxruntime by default, or tfjs-wasm). Arch
 * files only describe layers; this file draws the initial weights (He-uniform before ReLU,
 * Glorot-uniform otherwise, zero biases) from a seeded Rng.
 */
import { randomShift } from './augment.js';
import { HeistError } from '../core/errors.js';
import { type InputDomain, type ModelInfo, type Prediction, inputSize, probsPrediction } from '../core/prediction.js';
import { type Rng, createRng } from '../core/rng.js';
import { type Tensor, rowCount, rowSize, tensor } from '../core/tensor.js';
import { type LayerSpec, type NetworkSpec, specWeights, withWeights } from '../models/network-spec.js';
import { createTrainNet } from '../backends/train-engines.js';
import type { TrainNet } from '../backends/train-net.js';
import type { Arch, FitOptions, FitReport, Surrogate, TrainingSet } from './types.js';

/** Optional extras a caller may add to ArchOptions (the ModelInfo name and input domain). */
export interface SurrogateExtras {
  readonly name?: string;
  readonly domain?: InputDomain;
  /** Training engine (backends/train-engines.ts); default HEIST_TRAIN_ENGINE, else onnxruntime. */
  readonly engine?: string;
}

/** Returns a copy of `spec` with fresh weights drawn from `rng` (layer order is the draw order). */
export function initWeights(spec: NetworkSpec, rng: Rng): NetworkSpec {
  const layers = spec.layers.map((l, i): LayerSpec => {
    if (l.type !== 'dense' && l.type !== 'conv2d') return l;
    const area = l.type === 'conv2d' ? l.kernelSize[0] * l.kernelSize[1] : 1;
    const fanIn = l.type === 'conv2d' ? area * l.inChannels : l.inputs;
    const fanOut = l.type === 'conv2d' ? area * l.filters : l.units;
    const relu = spec.layers[i + 1]?.type === 'relu';
    const limit = relu ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
    const kernel = new Float32Array(l.kernel.length);
    for (let k = 0; k < kernel.length; k++) kernel[k] = rng.uniform(-limit, limit);
    return { ...l, kernel, bias: new Float32Array(l.bias.length) };
  });
  return { ...spec, layers };
}

/** A dense layer with zero weights (a template for initWeights). */
export function denseTemplate(inputs: number, units: number): LayerSpec {
  return { type: 'dense', inputs, units, kernel: new Float32Array(inputs * units), bias: new Float32Array(units) };
}

/** A 'same'-padded conv layer with zero weights. */
export function convTemplate(k: number, inChannels: number, filters: number): LayerSpec {
  return {
    type: 'conv2d',
    kernelSize: [k, k],
    inChannels,
    filters,
    padding: 'same',
    kernel: new Float32Array(k * k * inChannels * filters),
    bias: new Float32Array(filters),
  };
}

function targetsFor(data: TrainingSet, o: FitOptions, classes: number): Float32Array {
  const n = rowCount(data.x);
  const t = new Float32Array(n * classes);
  if (o.loss === 'hard') {
    if (data.labels.length !== n) throw new HeistError('HEIST_ERR_SHAPE', `${data.labels.length} labels for ${n} rows`);
    const eps = o.labelSmoothing ?? 0;
    if (!(eps >= 0 && eps < 1))
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `label smoothing must be in [0, 1), got ${eps}`);
    if (eps > 0) t.fill(eps / classes);
    data.labels.forEach((c, i) => {
      if (!(c >= 0 && c < classes)) throw new HeistError('HEIST_ERR_BAD_DATA', `label ${c} outside 0..${classes - 1}`);
      t[i * classes + c] = 1 - eps + eps / classes;
    });
    return t;
  }
  if (!data.soft)
    throw new HeistError('HEIST_ERR_REQUIREMENTS', "loss 'soft' needs target probabilities (TrainingSet.soft)");
  if (rowCount(data.soft) !== n || rowSize(data.soft) !== classes) {
    throw new HeistError('HEIST_ERR_SHAPE', `soft targets are [${data.soft.shape}], expected [${n}, ${classes}]`);
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < classes; j++) s += Math.max(0, data.soft.data[i * classes + j]);
    for (let j = 0; j < classes; j++) {
      const v = Math.max(0, data.soft.data[i * classes + j]);
      t[i * classes + j] = s > 0 ? v / s : 1 / classes;
    }
  }
  const temperature = o.temperature ?? 1;
  if (temperature !== 1) soften(t, n, classes, temperature);
  return t;
}

/**
 * The ratio the top class keeps over the runner-up when a row is softened: no row is softened past
 * it. A confident target's rows (0.99 against 0.001, say) soften all the way to T and show the
 * similarities among classes that distillation learns from (Hinton et al. 2015). A row whose two
 * best classes are already within this ratio stays as bought: softening it would only shrink
 * the differences the substitute learns the decision from. Softened in full, the near-uniform
 * answers of an untrained 64-16-10 network left a 250-query steal at 0.62 fidelity, against 0.8
 * or more as bought (test/e2e/tfjs-target.test.ts).
 */
export const SOFTEN_MIN_TOP_RATIO = 3;

/**
 * Rows of probabilities at temperature T, in place: p^(1/T) renormalised, computed as
 * exp((log p - max log p) / T) so that tiny probabilities neither underflow nor vanish; a zero
 * stays zero. A row takes the largest temperature in [1, T] at which its top class stays at
 * least SOFTEN_MIN_TOP_RATIO times the runner-up: (log p1 - log p2) / log ratio, in closed form,
 * since softening at t divides the log ratio by t. Softening never changes a row's order.
 */
export function soften(t: Float32Array, n: number, classes: number, temperature: number): void {
  if (!(temperature > 0 && Number.isFinite(temperature)))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `temperature must be a positive number, got ${temperature}`);
  const logs = new Float64Array(classes);
  const logRatio = Math.log(SOFTEN_MIN_TOP_RATIO);
  for (let i = 0; i < n; i++) {
    const row = t.subarray(i * classes, (i + 1) * classes);
    let top = -Infinity;
    let second = -Infinity;
    for (let j = 0; j < classes; j++) {
      logs[j] = Math.log(row[j]);
      if (logs[j] > top) {
        second = top;
        top = logs[j];
      } else if (logs[j] > second) second = logs[j];
    }
    // A temperature below 1 sharpens: the floor does not apply. A lone nonzero class stays one-hot.
    const rowT = temperature > 1 ? Math.max(1, Math.min(temperature, (top - second) / logRatio)) : temperature;
    if (rowT === 1) continue;
    let s = 0;
    for (let j = 0; j < classes; j++) {
      logs[j] = Math.exp((logs[j] - top) / rowT);
      s += logs[j];
    }
    for (let j = 0; j < classes; j++) row[j] = logs[j] / s;
  }
}

class NetSurrogate implements Surrogate {
  readonly arch: Arch;
  readonly info: ModelInfo;
  private readonly template: NetworkSpec;
  private readonly initRng: Rng;
  private net: TrainNet | undefined;

  constructor(arch: Arch, spec: NetworkSpec, net: TrainNet, initRng: Rng, extras: SurrogateExtras) {
    this.arch = arch;
    this.template = spec;
    this.initRng = initRng;
    this.net = net;
    this.info = {
      name: extras.name ?? arch,
      inputShape: [...spec.inputShape],
      classes: spec.classes,
      output: 'probs',
      domain: extras.domain ?? { min: 0, max: 1 },
    };
  }

  private live(): TrainNet {
    if (!this.net) throw new HeistError('HEIST_ERR_INTERNAL', 'surrogate used after dispose()');
    return this.net;
  }

  private rowsOf(x: Tensor): number {
    const n = rowCount(x);
    if (rowSize(x) !== inputSize(this.info) || x.data.length !== n * inputSize(this.info)) {
      throw new HeistError(
        'HEIST_ERR_SHAPE',
        `rows of [${x.shape.slice(1)}] do not fit input shape [${this.info.inputShape}]`,
      );
    }
    return n;
  }

  async predict(x: Tensor): Promise<Prediction> {
    const n = this.rowsOf(x);
    return probsPrediction(tensor(await this.live().predictProbs(x.data, n), [n, this.info.classes]));
  }

  async inputGradients(x: Tensor, targets: Tensor): Promise<Tensor> {
    const n = this.rowsOf(x);
    if (targets.data.length !== n * this.info.classes)
      throw new HeistError('HEIST_ERR_SHAPE', `targets must be [${n}, ${this.info.classes}]`);
    return tensor(await this.live().inputGradients(x.data, targets.data, n), x.shape);
  }

  async fit(data: TrainingSet, o: FitOptions): Promise<FitReport> {
    const start = Date.now();
    const n = this.rowsOf(data.x);
    if (n === 0) throw new HeistError('HEIST_ERR_EMPTY_BATCH', 'cannot fit on zero rows');
    if (!(o.epochs >= 0 && o.batchSize >= 1 && o.learningRate > 0)) {
      throw new HeistError('HEIST_ERR_BAD_CONFIG', 'fit needs epochs >= 0, batchSize >= 1 and learningRate > 0');
    }
    const targets = targetsFor(data, o, this.info.classes);
    const net = this.live();
    if (o.reinitialize) {
      const fresh = initWeights(this.template, this.initRng);
      net.writeWeights(specWeights(fresh.layers));
    }
    const r = await net.fit(data.x.data, targets, n, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      schedule: o.schedule,
      onEpoch: o.onEpoch,
      augment:
        o.shiftAugment && this.info.inputShape.length === 3
          ? randomShift(this.info.inputShape, o.shiftAugment, o.rng.fork('augment'))
          : undefined,
      shuffle: (order) => {
        for (let i = order.length - 1; i > 0; i--) {
          const j = o.rng.int(i + 1);
          const t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      },
    });
    return { epochs: r.epochs, samplesSeen: r.samplesSeen, finalLoss: r.finalLoss, wallMs: Date.now() - start };
  }

  toSpec(): NetworkSpec {
    const layers = withWeights(this.template.layers, this.live().readWeights());
    return { inputShape: [...this.template.inputShape], classes: this.template.classes, layers };
  }

  dispose(): void {
    this.net?.dispose();
    this.net = undefined;
  }
}

/** Builds a surrogate whose initial weights are drawn from `rng` (kept for later reinitialisation). */
export async function buildSurrogate(
  arch: Arch,
  template: NetworkSpec,
  rng: Rng,
  extras: SurrogateExtras = {},
): Promise<Surrogate> {
  const spec = initWeights(template, rng);
  return new NetSurrogate(arch, spec, await createTrainNet(spec, extras.engine), rng, extras);
}

/** Which arch a spec belongs to: any conv -> cnn, one dense layer -> logreg, else mlp. */
export function archOfSpec(spec: NetworkSpec): Arch {
  if (spec.layers.some((l) => l.type === 'conv2d')) return 'cnn';
  return spec.layers.filter((l) => l.type === 'dense').length === 1 ? 'logreg' : 'mlp';
}

/** Loads a surrogate (or a victim) from a spec's weights; reinitialisation draws from createRng(seed). */
export async function surrogateFromSpec(
  spec: NetworkSpec,
  extras: SurrogateExtras & { seed?: number } = {},
): Promise<Surrogate> {
  if (spec.layers[spec.layers.length - 1]?.type !== 'softmax') {
    throw new HeistError('HEIST_ERR_BAD_MODEL', 'a classifier spec must end in softmax');
  }
  return new NetSurrogate(
    archOfSpec(spec),
    spec,
    await createTrainNet(spec, extras.engine),
    createRng(extras.seed ?? 0),
    extras,
  );
}

/** Shape check shared by the arch files. */
export function requireShape(ok: boolean, message: string): void {
  if (!ok) throw new HeistError('HEIST_ERR_BAD_CONFIG', message);
}
