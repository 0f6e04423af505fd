/**
 * @file NetworkSpec -> standard ONNX ModelProto (opset 13, IR 8). The graph input 'input' is
 * [N, ...spec.inputShape] (NHWC for conv nets) with a dynamic batch dim; conv/pool run in NCHW
 * between Transposes, and the net is transposed back to NHWC before Flatten, so dense kernels
 * ([in, out], row-major over h, w, c) apply unchanged. The output 'probabilities' [N, classes] always
 * ends in Softmax (appended when the spec does not end in one). Heist metadata goes in
 * metadata_props (see HEIST_META).
 */
import { HeistError } from '../core/errors.js';
import type { InputDomain } from '../core/prediction.js';
import type { LayerSpec, NetworkSpec } from '../models/network-spec.js';
import { OnnxGraphBuilder } from './onnx-graph.js';

/** metadata_props keys written by Heist (values are JSON unless noted). */
export const HEIST_META = {
  format: 'heist.format', // '1'
  name: 'heist.name', // plain string
  inputShape: 'heist.input_shape', // e.g. [28,28,1]
  classes: 'heist.classes', // e.g. 10
  classNames: 'heist.class_names', // e.g. ["0","1",...]
  domain: 'heist.domain', // {"min":0,"max":1}
  output: 'heist.output', // 'probs' | 'logits' (plain string): what the graph output holds
  /** The layers without their weights (onnx-network.ts reads the network back from them and the initializers). */
  layers: 'heist.layers', // e.g. [{"type":"dense","inputs":784,"units":10},{"type":"softmax"}]
} as const;

/** A layer as heist.layers records it: everything but the weights, which are the initializers. */
export function layerShape(l: LayerSpec): Record<string, unknown> {
  if (l.type === 'dense') return { type: l.type, inputs: l.inputs, units: l.units };
  if (l.type === 'conv2d')
    return { type: l.type, kernelSize: l.kernelSize, inChannels: l.inChannels, filters: l.filters, padding: l.padding };
  return { ...l };
}

export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'probabilities';

export interface OnnxWriteMeta {
  readonly name: string;
  readonly classNames?: readonly string[];
  readonly domain: InputDomain;
  readonly producer?: string;
}

type Layout = 'nhwc' | 'nchw' | 'flat';

interface Cursor {
  value: string;
  layout: Layout;
  /** Per-row shape in spec terms: [h, w, c] for images (whatever the layout), [k] when flat. */
  shape: number[];
}

function bad(index: number, message: string): never {
  throw new HeistError('HEIST_ERR_BAD_MODEL', `network layer ${index}: ${message}`);
}

/** Permutes a [kh, kw, cin, cout] kernel to ONNX [cout, cin, kh, kw]. */
export function convKernelToOihw(
  kernel: Float32Array,
  kh: number,
  kw: number,
  cin: number,
  cout: number,
): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = kernel[((y * kw + x) * cin + i) * cout + o];
  return out;
}

/** TF/Keras 'same' padding for stride 1: the extra pad goes at the end. ONNX pads = [top, left, bottom, right]. */
export function samePads(kh: number, kw: number): number[] {
  const top = Math.floor((kh - 1) / 2);
  const left = Math.floor((kw - 1) / 2);
  return [top, left, kh - 1 - top, kw - 1 - left];
}

function toLayout(g: OnnxGraphBuilder, cur: Cursor, want: 'nhwc' | 'nchw'): void {
  if (cur.layout === want) return;
  const perm = want === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1];
  cur.value = g.node('Transpose', [cur.value], [g.fresh(want === 'nchw' ? 'to_nchw' : 'to_nhwc')], {
    perm: { ints: perm },
  });
  cur.layout = want;
}

function flatten(g: OnnxGraphBuilder, cur: Cursor): void {
  if (cur.layout === 'flat') return;
  if (cur.layout === 'nchw') toLayout(g, cur, 'nhwc');
  if (cur.shape.length > 1) cur.value = g.node('Flatten', [cur.value], [g.fresh('flat')], { axis: { i: 1 } });
  cur.shape = [cur.shape.reduce((a, b) => a * b, 1)];
  cur.layout = 'flat';
}

function emitLayer(g: OnnxGraphBuilder, cur: Cursor, layer: LayerSpec, index: number, last: boolean): void {
  switch (layer.type) {
    case 'dense': {
      flatten(g, cur);
      if (cur.shape[0] !== layer.inputs) bad(index, `dense expects ${layer.inputs} inputs, gets ${cur.shape[0]}`);
      if (layer.kernel.length !== layer.inputs * layer.units || layer.bias.length !== layer.units)
        bad(index, 'dense weights have the wrong size');
      const w = g.initializer(`dense${index}_kernel`, [layer.inputs, layer.units], layer.kernel);
      const b = g.initializer(`dense${index}_bias`, [layer.units], layer.bias);
      cur.value = g.node('Gemm', [cur.value, w, b], [g.fresh('dense')]);
      cur.shape = [layer.units];
      return;
    }
    case 'conv2d': {
      if (cur.shape.length !== 3) bad(index, 'conv2d needs an [h, w, c] input');
      const [kh, kw] = layer.kernelSize;
      const [h, w, c] = cur.shape;
      if (c !== layer.inChannels) bad(index, `conv2d expects ${layer.inChannels} channels, gets ${c}`);
      if (layer.kernel.length !== kh * kw * c * layer.filters || layer.bias.length !== layer.filters)
        bad(index, 'conv2d weights have the wrong size');
      toLayout(g, cur, 'nchw');
      const k = g.initializer(
        `conv${index}_kernel`,
        [layer.filters, c, kh, kw],
        convKernelToOihw(layer.kernel, kh, kw, c, layer.filters),
      );
      const b = g.initializer(`conv${index}_bias`, [layer.filters], layer.bias);
      const same = layer.padding === 'same';
      cur.value = g.node('Conv', [cur.value, k, b], [g.fresh('conv')], {
        kernel_shape: { ints: [kh, kw] },
        strides: { ints: [1, 1] },
        pads: { ints: same ? samePads(kh, kw) : [0, 0, 0, 0] },
      });
      cur.shape = same ? [h, w, layer.filters] : [h - kh + 1, w - kw + 1, layer.filters];
      if (cur.shape[0] < 1 || cur.shape[1] < 1) bad(index, 'conv2d kernel is larger than its input');
      return;
    }
    case 'maxpool2d': {
      if (cur.shape.length !== 3) bad(index, 'maxpool2d needs an [h, w, c] input');
      const s = layer.size;
      toLayout(g, cur, 'nchw');
      cur.value = g.node('MaxPool', [cur.value], [g.fresh('pool')], {
        kernel_shape: { ints: [s, s] },
        strides: { ints: [s, s] },
      });
      cur.shape = [Math.floor(cur.shape[0] / s), Math.floor(cur.shape[1] / s), cur.shape[2]];
      if (cur.shape[0] < 1 || cur.shape[1] < 1) bad(index, 'maxpool2d window is larger than its input');
      return;
    }
    case 'relu':
      cur.value = g.node('Relu', [cur.value], [g.fresh('relu')]);
      return;
    case 'flatten':
      flatten(g, cur);
      return;
    case 'softmax':
      flatten(g, cur);
      cur.value = g.node('Softmax', [cur.value], [last ? ONNX_OUTPUT_NAME : g.fresh('softmax')], { axis: { i: -1 } });
      return;
    default:
      bad(index, `unknown layer type ${(layer as { type: string }).type}`);
  }
}

/** Encodes a NetworkSpec as a standard ONNX classifier with Heist metadata. */
export function networkToOnnx(spec: NetworkSpec, meta: OnnxWriteMeta): Uint8Array {
  if (spec.inputShape.length === 0 || spec.inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `bad network input shape [${spec.inputShape}]`);
  }
  if (meta.classNames && meta.classNames.length !== spec.classes) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `${meta.classNames.length} class names for ${spec.classes} classes`);
  }
  const g = new OnnxGraphBuilder(meta.name);
  const input = g.input(ONNX_INPUT_NAME, ['batch', ...spec.inputShape]);
  // Rank > 1 rows count as channels-last images; flatten (row-major) handles any rank.
  const cur: Cursor = {
    value: input,
    layout: spec.inputShape.length === 1 ? 'flat' : 'nhwc',
    shape: [...spec.inputShape],
  };
  const layers = spec.layers;
  const endsInSoftmax = layers.length > 0 && layers[layers.length - 1].type === 'softmax';
  layers.forEach((layer, i) => {
    emitLayer(g, cur, layer, i, endsInSoftmax && i === layers.length - 1);
  });
  if (!endsInSoftmax) emitLayer(g, cur, { type: 'softmax' }, layers.length, true);
  if (cur.shape.length !== 1 || cur.shape[0] !== spec.classes) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `network ends with shape [${cur.shape}], expected [${spec.classes}]`);
  }
  g.output(ONNX_OUTPUT_NAME, ['batch', spec.classes]);
  const metadata: Record<string, string> = {
    [HEIST_META.format]: '1',
    [HEIST_META.name]: meta.name,
    [HEIST_META.inputShape]: JSON.stringify(spec.inputShape),
    [HEIST_META.classes]: JSON.stringify(spec.classes),
    [HEIST_META.domain]: JSON.stringify({ min: meta.domain.min, max: meta.domain.max }),
    [HEIST_META.output]: 'probs',
    [HEIST_META.layers]: JSON.stringify(layers.map(layerShape)),
  };
  if (meta.classNames) metadata[HEIST_META.classNames] = JSON.stringify(meta.classNames);
  return g.encode({
    opset: 13,
    irVersion: 8,
    producer: meta.producer ?? 'heist',
    producerVersion: '0.1.0',
    docString: `Heist classifier ${meta.name}`,
    metadata,
  });
}
