/**
 * @file Dense ReLU networks with float64 weights that answer raw logits: the targets (and the
 * results) of the functionally-equivalent extraction attacks in attacks/extract/relu-network/.
 * x -> ReLU(x W_1 + b_1) -> ... -> x W_L + b_L (no softmax). Kernels are [in, out] row-major,
 * like NetworkSpec. Precision 'float64' answers a Prediction of kind 'logits' whose `scores` are
 * the float32 rounding of the logits and whose `logits64` holds the exact float64 values (an
 * attacker that reads logits64 sees what a float64 API would send); 'float32' answers only the
 * float32 logits (what a float32 JSON or HTTP API allows). Inputs are the float32 rows Heist
 * sends; the arithmetic is float64 in both cases.
 */
import { HeistError } from '../core/errors.js';
import type { InputDomain, ModelInfo, Prediction, Predictor } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import { type Tensor, argmaxRows, rowCount, rowSize } from '../core/tensor.js';
import type { LayerSpec, NetworkSpec } from './network-spec.js';

export interface DenseLayer64 {
  readonly inputs: number;
  readonly units: number;
  /** [inputs, units] row-major. */
  readonly kernel: Float64Array;
  readonly bias: Float64Array;
}

/** ReLU after every layer but the last. */
export interface DenseReluNet {
  readonly layers: readonly DenseLayer64[];
}

/** A logits answer that may also carry the exact float64 logits. */
export interface LogitsPrediction extends Prediction {
  readonly kind: 'logits';
  /** [n, classes] float64 logits, present when the model answers in float64. */
  readonly logits64?: Float64Array;
}

export type AnswerPrecision = 'float64' | 'float32';

export interface DenseReluOptions {
  readonly name?: string;
  readonly inputShape?: readonly number[];
  readonly domain?: InputDomain;
  readonly classNames?: readonly string[];
  readonly precision?: AnswerPrecision;
}

export function validateDenseRelu(net: DenseReluNet): void {
  if (net.layers.length === 0)
    throw new HeistError('HEIST_ERR_BAD_MODEL', 'a dense ReLU network needs at least one layer');
  net.layers.forEach((l, i) => {
    if (l.kernel.length !== l.inputs * l.units || l.bias.length !== l.units)
      throw new HeistError('HEIST_ERR_BAD_MODEL', `dense layer ${i} has weights of the wrong size`);
    if (i > 0 && net.layers[i - 1].units !== l.inputs)
      throw new HeistError(
        'HEIST_ERR_BAD_MODEL',
        `dense layer ${i} expects ${l.inputs} inputs, gets ${net.layers[i - 1].units}`,
      );
  });
}

/** Float64 forward pass of one row; returns the logits. */
export function forwardLogits(net: DenseReluNet, x: ArrayLike<number>): Float64Array {
  let a = Float64Array.from(x);
  net.layers.forEach((l, li) => {
    const out = Float64Array.from(l.bias);
    for (let i = 0; i < l.inputs; i++) {
      const v = a[i];
      if (v === 0) continue;
      const base = i * l.units;
      for (let o = 0; o < l.units; o++) out[o] += v * l.kernel[base + o];
    }
    if (li < net.layers.length - 1) for (let o = 0; o < out.length; o++) out[o] = out[o] > 0 ? out[o] : 0;
    a = out;
  });
  return a;
}

function argmax64(z: Float64Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) for (let j = 1; j < k; j++) if (z[i * k + j] > z[i * k + out[i]]) out[i] = j;
  return out;
}

/** A Predictor (and, through localOracle, an Oracle) answering logits. */
export interface DenseReluPredictor extends Predictor {
  readonly net: DenseReluNet;
  predict(x: Tensor): LogitsPrediction;
  toSpec(): NetworkSpec;
}

export function denseReluPredictor(net: DenseReluNet, opts: DenseReluOptions = {}): DenseReluPredictor {
  validateDenseRelu(net);
  const d = net.layers[0].inputs;
  const k = net.layers[net.layers.length - 1].units;
  const inputShape = opts.inputShape ?? [d];
  if (inputShape.reduce((a, b) => a * b, 1) !== d)
    throw new HeistError('HEIST_ERR_BAD_MODEL', `input shape [${inputShape}] does not hold ${d} values`);
  const info: ModelInfo = {
    name: opts.name ?? `relu-${[d, ...net.layers.map((l) => l.units)].join('-')}`,
    inputShape: [...inputShape],
    classes: k,
    output: 'logits',
    domain: opts.domain ?? { min: 0, max: 1 },
    ...(opts.classNames ? { classNames: opts.classNames } : {}),
  };
  const exact = (opts.precision ?? 'float64') === 'float64';
  return {
    info,
    net,
    toSpec: () => denseReluToSpec(net, inputShape),
    predict(x: Tensor): LogitsPrediction {
      if (rowSize(x) !== d || x.shape.length < 2)
        throw new HeistError('HEIST_ERR_SHAPE', `expected rows of ${d} values, got shape [${x.shape.join(', ')}]`);
      const n = rowCount(x);
      const z = new Float64Array(n * k);
      for (let i = 0; i < n; i++) z.set(forwardLogits(net, x.data.subarray(i * d, (i + 1) * d)), i * k);
      const scores: Tensor = { data: Float32Array.from(z), shape: [n, k] };
      // Labels from the answer the caller sees (float64 logits can break a float32 tie).
      return exact
        ? { kind: 'logits', labels: argmax64(z, n, k), scores, logits64: z }
        : { kind: 'logits', labels: argmaxRows(scores), scores };
    },
  };
}

/** The network as a NetworkSpec (float32 kernels; ends in softmax, as networkToOnnx writes classifiers). */
export function denseReluToSpec(net: DenseReluNet, inputShape?: readonly number[]): NetworkSpec {
  validateDenseRelu(net);
  const shape = inputShape ?? [net.layers[0].inputs];
  const layers: LayerSpec[] = shape.length > 1 ? [{ type: 'flatten' }] : [];
  net.layers.forEach((l, i) => {
    layers.push({
      type: 'dense',
      inputs: l.inputs,
      units: l.units,
      kernel: Float32Array.from(l.kernel),
      bias: Float32Array.from(l.bias),
    });
    if (i < net.layers.length - 1) layers.push({ type: 'relu' });
  });
  layers.push({ type: 'softmax' });
  return { inputShape: [...shape], classes: net.layers[net.layers.length - 1].units, layers };
}

/** The dense layers of a flatten? -> (dense -> relu)* -> dense -> softmax? spec (e.g. a trained mlp surrogate), in float64. */
export function denseReluFromSpec(spec: NetworkSpec): DenseReluNet {
  const layers: DenseLayer64[] = [];
  spec.layers.forEach((l, i) => {
    if (l.type === 'dense') {
      const next = spec.layers[i + 1];
      const last = !spec.layers.slice(i + 1).some((m) => m.type === 'dense');
      if (!last && next?.type !== 'relu')
        throw new HeistError('HEIST_ERR_BAD_MODEL', `dense layer ${i} is not followed by relu`);
      layers.push({
        inputs: l.inputs,
        units: l.units,
        kernel: Float64Array.from(l.kernel),
        bias: Float64Array.from(l.bias),
      });
    } else if (l.type === 'conv2d' || l.type === 'maxpool2d')
      throw new HeistError('HEIST_ERR_BAD_MODEL', `layer ${i} (${l.type}) is not part of a dense ReLU network`);
    else if (l.type === 'softmax' && i !== spec.layers.length - 1)
      throw new HeistError('HEIST_ERR_BAD_MODEL', 'softmax before the last layer');
  });
  const net = { layers };
  validateDenseRelu(net);
  return net;
}

/** Random weights (Gaussian, He scale; biases Gaussian times biasScale), e.g. the 10-10-10-1 networks of Carlini et al. */
export function randomDenseRelu(rng: Rng, sizes: readonly number[], biasScale = 0.5): DenseReluNet {
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `bad layer sizes [${sizes}]`);
  const layers = sizes.slice(1).map((units, i): DenseLayer64 => {
    const inputs = sizes[i];
    const std = Math.sqrt(2 / inputs);
    return {
      inputs,
      units,
      kernel: Float64Array.from({ length: inputs * units }, () => rng.normal() * std),
      bias: Float64Array.from({ length: units }, () => rng.normal() * biasScale),
    };
  });
  return { layers };
}
