/**
 * @file Plain-TypeScript inference for a NetworkSpec (NHWC, float64 arithmetic, float32 in and out):
 * the framework-free reference the ONNX writer and tfjs backends are tested against. Like the ONNX
 * writer, the predictor always answers probabilities: a softmax is applied when the spec does not
 * end in one. 'same' conv padding follows TF (extra pad at the bottom/right); max-pooling uses
 * stride = size and drops the remainder.
 */
import { HeistError } from '../core/errors.js';
import { type ModelInfo, type Predictor, inputSize, probsPrediction } from '../core/prediction.js';
import { type Tensor, rowCount, rowSize } from '../core/tensor.js';
import type { LayerSpec, NetworkSpec } from './network-spec.js';

interface Activation {
  data: Float64Array;
  /** [h, w, c] or [k]. */
  shape: number[];
}

function bad(index: number, message: string): never {
  throw new HeistError('HEIST_ERR_BAD_MODEL', `network layer ${index}: ${message}`);
}

function dense(a: Activation, l: Extract<LayerSpec, { type: 'dense' }>): Activation {
  const out = new Float64Array(l.units);
  for (let o = 0; o < l.units; o++) out[o] = l.bias[o];
  for (let i = 0; i < l.inputs; i++) {
    const v = a.data[i];
    if (v === 0) continue;
    const base = i * l.units;
    for (let o = 0; o < l.units; o++) out[o] += v * l.kernel[base + o];
  }
  return { data: out, shape: [l.units] };
}

function conv2d(a: Activation, l: Extract<LayerSpec, { type: 'conv2d' }>): Activation {
  const [h, w, cin] = a.shape;
  const [kh, kw] = l.kernelSize;
  const cout = l.filters;
  const same = l.padding === 'same';
  const top = same ? Math.floor((kh - 1) / 2) : 0;
  const left = same ? Math.floor((kw - 1) / 2) : 0;
  const oh = same ? h : h - kh + 1;
  const ow = same ? w : w - kw + 1;
  const out = new Float64Array(oh * ow * cout);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const o0 = (y * ow + x) * cout;
      for (let o = 0; o < cout; o++) out[o0 + o] = l.bias[o];
      for (let dy = 0; dy < kh; dy++) {
        const iy = y + dy - top;
        if (iy < 0 || iy >= h) continue;
        for (let dx = 0; dx < kw; dx++) {
          const ix = x + dx - left;
          if (ix < 0 || ix >= w) continue;
          const i0 = (iy * w + ix) * cin;
          const k0 = (dy * kw + dx) * cin * cout;
          for (let c = 0; c < cin; c++) {
            const v = a.data[i0 + c];
            if (v === 0) continue;
            const kc = k0 + c * cout;
            for (let o = 0; o < cout; o++) out[o0 + o] += v * l.kernel[kc + o];
          }
        }
      }
    }
  }
  return { data: out, shape: [oh, ow, cout] };
}

function maxpool(a: Activation, s: number): Activation {
  const [h, w, c] = a.shape;
  const oh = Math.floor(h / s);
  const ow = Math.floor(w / s);
  const out = new Float64Array(oh * ow * c).fill(-Infinity);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++)
      for (let dy = 0; dy < s; dy++)
        for (let dx = 0; dx < s; dx++) {
          const i0 = ((y * s + dy) * w + (x * s + dx)) * c;
          const o0 = (y * ow + x) * c;
          for (let k = 0; k < c; k++) if (a.data[i0 + k] > out[o0 + k]) out[o0 + k] = a.data[i0 + k];
        }
  return { data: out, shape: [oh, ow, c] };
}

function softmax(a: Activation): Activation {
  let m = -Infinity;
  for (const v of a.data) m = Math.max(m, v);
  const out = new Float64Array(a.data.length);
  let s = 0;
  for (let i = 0; i < out.length; i++) s += out[i] = Math.exp(a.data[i] - m);
  for (let i = 0; i < out.length; i++) out[i] /= s;
  return { data: out, shape: [out.length] };
}

function apply(a: Activation, l: LayerSpec): Activation {
  switch (l.type) {
    case 'dense':
      return dense(a, l);
    case 'conv2d':
      return conv2d(a, l);
    case 'maxpool2d':
      return maxpool(a, l.size);
    case 'relu':
      return { data: a.data.map((v) => (v > 0 ? v : 0)), shape: a.shape };
    case 'flatten':
      return { data: a.data, shape: [a.data.length] };
    case 'softmax':
      return softmax(a);
  }
}

/** Checks every layer's weights against the shapes flowing through the net; throws HEIST_ERR_BAD_MODEL. */
export function validateNetworkSpec(spec: NetworkSpec): void {
  let shape = [...spec.inputShape];
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1))
    bad(-1, `bad input shape [${spec.inputShape}]`);
  spec.layers.forEach((l, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (l.type === 'dense') {
      if (size !== l.inputs) bad(i, `dense expects ${l.inputs} inputs, gets ${size}`);
      if (l.kernel.length !== l.inputs * l.units || l.bias.length !== l.units)
        bad(i, 'dense weights have the wrong size');
      shape = [l.units];
    } else if (l.type === 'conv2d' || l.type === 'maxpool2d') {
      if (shape.length !== 3) bad(i, `${l.type} needs an [h, w, c] input`);
      const [h, w, c] = shape;
      if (l.type === 'maxpool2d') shape = [Math.floor(h / l.size), Math.floor(w / l.size), c];
      else {
        const [kh, kw] = l.kernelSize;
        if (c !== l.inChannels) bad(i, `conv2d expects ${l.inChannels} channels, gets ${c}`);
        if (l.kernel.length !== kh * kw * c * l.filters || l.bias.length !== l.filters)
          bad(i, 'conv2d weights have the wrong size');
        shape = l.padding === 'same' ? [h, w, l.filters] : [h - kh + 1, w - kw + 1, l.filters];
      }
      if (shape[0] < 1 || shape[1] < 1) bad(i, `${l.type} window is larger than its input`);
    } else if (l.type === 'flatten' || l.type === 'softmax') shape = [size];
  });
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== spec.classes)
    bad(spec.layers.length, `network ends with ${size} values, expected ${spec.classes} classes`);
}

/** Forward pass of one row (already laid out NHWC, length = product of inputShape); returns probabilities. */
export function forwardRow(spec: NetworkSpec, rowData: ArrayLike<number>): Float64Array {
  let a: Activation = { data: Float64Array.from(rowData), shape: [...spec.inputShape] };
  for (const l of spec.layers) a = apply(a, l);
  const last = spec.layers[spec.layers.length - 1];
  return last?.type === 'softmax' ? a.data : softmax(a).data;
}

/** A Predictor that runs the spec in plain TS. `info` should describe the spec (classes and input size are checked). */
export function networkPredictor(spec: NetworkSpec, info: ModelInfo): Predictor {
  validateNetworkSpec(spec);
  const n = inputSize(spec);
  if (inputSize(info) !== n || info.classes !== spec.classes) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', 'model info does not match the network spec (input size or classes)');
  }
  const fullInfo: ModelInfo = { ...info, output: 'probs' };
  return {
    info: fullInfo,
    predict(x: Tensor) {
      if (rowSize(x) !== n || x.shape.length < 2) {
        throw new HeistError('HEIST_ERR_SHAPE', `expected rows of ${n} values, got shape [${x.shape.join(', ')}]`);
      }
      const rows = rowCount(x);
      const k = spec.classes;
      const out = new Float32Array(rows * k);
      for (let i = 0; i < rows; i++) out.set(forwardRow(spec, x.data.subarray(i * n, (i + 1) * n)), i * k);
      return probsPrediction({ data: out, shape: [rows, k] });
    },
  };
}
