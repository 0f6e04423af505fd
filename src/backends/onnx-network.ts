/**
 * @file Reads a network Heist exported (onnx-writer.ts) back into a NetworkSpec: the layers from the
 * `heist.layers` metadata, the weights from the initializers the writer named after each layer
 * (`dense{i}_kernel` [in, out] as is, `conv{i}_kernel` from ONNX's [cout, cin, kh, kw] back to
 * [kh, kw, cin, cout]). So a stolen substitute file is a live, differentiable model again (heist
 * transfer crafts adversarial examples on it). Files without that metadata (other exporters, or
 * Heist before it wrote it) are refused with HEIST_ERR_BAD_MODEL.
 */
import { HeistError } from '../core/errors.js';
import type { LayerSpec, NetworkSpec } from '../models/network-spec.js';
import { readOnnxInitializers, readOnnxSummary } from './onnx-graph.js';
import { HEIST_META } from './onnx-writer.js';

/** [cout, cin, kh, kw] -> [kh, kw, cin, cout], the inverse of convKernelToOihw. */
function oihwToKernel(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((y * kw + x) * cin + i) * cout + o] = k[((o * cin + i) * kh + y) * kw + x];
  return out;
}

export function readNetworkOnnx(bytes: Uint8Array, source = 'the model'): NetworkSpec {
  const meta = readOnnxSummary(bytes).metadata;
  const bad = (why: string): never => {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `${source} is not a network Heist exported: ${why}`);
  };
  if (!meta[HEIST_META.layers]) bad(`it has no ${HEIST_META.layers} metadata`);
  let shapes: Record<string, unknown>[];
  let inputShape: number[];
  let classes: number;
  try {
    shapes = JSON.parse(meta[HEIST_META.layers]);
    inputShape = JSON.parse(meta[HEIST_META.inputShape]);
    classes = JSON.parse(meta[HEIST_META.classes]);
  } catch (e) {
    return bad(`its metadata does not parse (${(e as Error).message})`);
  }
  const init = readOnnxInitializers(bytes);
  const weight = (name: string, size: number): Float32Array => {
    const t = init[name];
    if (!t || t.data.length !== size) bad(`initializer ${name} is missing or has the wrong size`);
    return Float32Array.from(t.data);
  };
  const layers = shapes.map((l, i): LayerSpec => {
    if (l.type === 'dense') {
      const inputs = l.inputs as number;
      const units = l.units as number;
      return {
        type: 'dense',
        inputs,
        units,
        kernel: weight(`dense${i}_kernel`, inputs * units),
        bias: weight(`dense${i}_bias`, units),
      };
    }
    if (l.type === 'conv2d') {
      const [kh, kw] = l.kernelSize as [number, number];
      const cin = l.inChannels as number;
      const cout = l.filters as number;
      return {
        type: 'conv2d',
        kernelSize: [kh, kw],
        inChannels: cin,
        filters: cout,
        padding: l.padding as 'same' | 'valid',
        kernel: oihwToKernel(weight(`conv${i}_kernel`, kh * kw * cin * cout), kh, kw, cin, cout),
        bias: weight(`conv${i}_bias`, cout),
      };
    }
    if (l.type === 'maxpool2d') return { type: 'maxpool2d', size: l.size as number };
    if (l.type === 'relu' || l.type === 'flatten' || l.type === 'softmax') return { type: l.type };
    return bad(`layer ${i} has unknown type ${JSON.stringify(l.type)}`);
  });
  return { inputShape, classes, layers };
}
