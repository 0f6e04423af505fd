/**
 * @file Reference material for training-engine tests: small specs covering every unit (dense, conv
 * 'same' and 'valid', max-pool with odd sizes, ReLU, flatten) in both of the onnxruntime engine's
 * image layouts (NCHW, and NCHWc where the CPU has it), a float64 forward pass and loss in
 * plain TS for finite differences, and target rows (one-hot or soft).
 */
import { createRng } from '../../src/core/rng.js';
import { type LayerSpec, type NetworkSpec, specWeights as weightsOf } from '../../src/models/network-spec.js';
import { initWeights } from '../../src/surrogates/create.js';
import { cnnSpec } from '../../src/surrogates/cnn.js';
import { mlpSpec } from '../../src/surrogates/mlp.js';

const conv = (k: number, cin: number, cout: number, padding: 'same' | 'valid'): LayerSpec => ({
  type: 'conv2d',
  kernelSize: [k, k],
  inChannels: cin,
  filters: cout,
  padding,
  kernel: new Float32Array(k * k * cin * cout),
  bias: new Float32Array(cout),
});
const dense = (i: number, o: number): LayerSpec => ({
  type: 'dense',
  inputs: i,
  units: o,
  kernel: new Float32Array(i * o),
  bias: new Float32Array(o),
});

/** 9x9x2 -> conv3 valid (7x7x3) -> relu -> pool2 (3x3) -> conv2 same -> pool3 (1x1) -> relu -> flatten -> dense -> relu -> dense. */
export const mixedSpec: NetworkSpec = {
  inputShape: [9, 9, 2],
  classes: 4,
  layers: [
    conv(3, 2, 3, 'valid'),
    { type: 'relu' },
    { type: 'maxpool2d', size: 2 },
    conv(2, 3, 5, 'same'),
    { type: 'maxpool2d', size: 3 },
    { type: 'relu' },
    { type: 'flatten' },
    dense(5, 6),
    { type: 'relu' },
    dense(6, 4),
    { type: 'softmax' },
  ],
};

/**
 * 10x10x3 -> conv3 valid (8x8x16) -> relu -> pool2 (4x4) -> conv2 same (4x4x16, uneven pads) ->
 * relu -> flatten -> dense: every conv in whole channel blocks of 8 and 16 and every pool tiling
 * its input, so onnxruntime's NCHWc path (ort-train-graph.ts) trains it where the CPU has one,
 * with both pad kinds and a ReLU fused into a conv.
 */
export const blockedSpec: NetworkSpec = {
  inputShape: [10, 10, 3],
  classes: 3,
  layers: [
    conv(3, 3, 16, 'valid'),
    { type: 'relu' },
    { type: 'maxpool2d', size: 2 },
    conv(2, 16, 16, 'same'),
    { type: 'relu' },
    { type: 'flatten' },
    dense(256, 3),
    { type: 'softmax' },
  ],
};

export const referenceSpecs: [string, NetworkSpec][] = [
  ['mixed conv net', initWeights(mixedSpec, createRng(11))],
  ['blocked conv net', initWeights(blockedSpec, createRng(12))],
  ['cnn', initWeights(cnnSpec({ inputShape: [12, 12, 2], classes: 5 }), createRng(3))],
  ['mlp', initWeights(mlpSpec({ inputShape: [20], classes: 3, hidden: [16, 8] }), createRng(4))],
  ['mlp on images', initWeights(mlpSpec({ inputShape: [4, 4, 2], classes: 3, hidden: [7] }), createRng(5))],
];

/** Float64 forward pass of a spec (NHWC), for finite differences. */
export function logits64(
  spec: NetworkSpec,
  params: Float64Array[],
  x: Float32Array | Float64Array,
  n: number,
): Float64Array[] {
  const d = spec.inputShape.reduce((a, b) => a * b, 1);
  const out: Float64Array[] = [];
  for (let r = 0; r < n; r++) {
    let h = Float64Array.from(x.subarray(r * d, (r + 1) * d));
    let shape = [...spec.inputShape];
    let k = 0;
    for (const l of spec.layers) {
      if (l.type === 'dense') {
        const w = params[k++];
        const b = params[k++];
        const y = new Float64Array(l.units);
        for (let o = 0; o < l.units; o++) {
          let s = b[o];
          for (let i = 0; i < l.inputs; i++) s += h[i] * w[i * l.units + o];
          y[o] = s;
        }
        h = y;
        shape = [l.units];
      } else if (l.type === 'conv2d') {
        const w = params[k++];
        const b = params[k++];
        const [H, W, C] = shape;
        const [kh, kw] = l.kernelSize;
        const same = l.padding === 'same';
        const top = same ? Math.floor((kh - 1) / 2) : 0;
        const left = same ? Math.floor((kw - 1) / 2) : 0;
        const oh = same ? H : H - kh + 1;
        const ow = same ? W : W - kw + 1;
        const y = new Float64Array(oh * ow * l.filters);
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++)
            for (let o = 0; o < l.filters; o++) {
              let s = b[o];
              for (let a = 0; a < kh; a++)
                for (let c = 0; c < kw; c++) {
                  const yy = i + a - top;
                  const xx = j + c - left;
                  if (yy < 0 || xx < 0 || yy >= H || xx >= W) continue;
                  for (let ci = 0; ci < C; ci++)
                    s += h[(yy * W + xx) * C + ci] * w[((a * kw + c) * C + ci) * l.filters + o];
                }
              y[(i * ow + j) * l.filters + o] = s;
            }
        h = y;
        shape = [oh, ow, l.filters];
      } else if (l.type === 'maxpool2d') {
        const [H, W, C] = shape;
        const s = l.size;
        const oh = Math.floor(H / s);
        const ow = Math.floor(W / s);
        const y = new Float64Array(oh * ow * C).fill(-Infinity);
        for (let i = 0; i < oh * s; i++)
          for (let j = 0; j < ow * s; j++)
            for (let c = 0; c < C; c++) {
              const at = (Math.floor(i / s) * ow + Math.floor(j / s)) * C + c;
              y[at] = Math.max(y[at], h[(i * W + j) * C + c]);
            }
        h = y;
        shape = [oh, ow, C];
      } else if (l.type === 'relu') h = h.map((v) => Math.max(0, v));
      else if (l.type === 'flatten') shape = [h.length];
    }
    out.push(h);
  }
  return out;
}

export function loss64(
  spec: NetworkSpec,
  params: Float64Array[],
  x: Float32Array | Float64Array,
  t: Float32Array,
  n: number,
): number {
  const c = spec.classes;
  let total = 0;
  logits64(spec, params, x, n).forEach((z, r) => {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    for (let j = 0; j < c; j++) total -= t[r * c + j] * (z[j] - lse);
  });
  return total / n;
}

export function targets(spec: NetworkSpec, n: number, soft: boolean, seed: number): Float32Array {
  const rng = createRng(seed);
  const c = spec.classes;
  const t = new Float32Array(n * c);
  for (let r = 0; r < n; r++) {
    if (!soft) t[r * c + rng.int(c)] = 1;
    else {
      const row = Array.from({ length: c }, () => rng.next() + 0.05);
      const s = row.reduce((a, b) => a + b, 0);
      row.forEach((v, j) => {
        t[r * c + j] = v / s;
      });
    }
  }
  return t;
}

export function specWeights(spec: NetworkSpec): Float32Array[] {
  return weightsOf(spec.layers);
}

/** n rows of uniform [0, 1) inputs for `spec`. */
export function inputs(spec: NetworkSpec, n: number, seed: number): Float32Array {
  const d = spec.inputShape.reduce((a, b) => a * b, 1);
  const rng = createRng(seed);
  return Float32Array.from({ length: n * d }, () => rng.next());
}

/** A seeded Fisher-Yates shuffle for NetFitOptions.shuffle. */
export function shuffler(seed: number): (order: Int32Array) => void {
  const rng = createRng(seed);
  return (o) => {
    for (let i = o.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [o[i], o[j]] = [o[j], o[i]];
    }
  };
}
