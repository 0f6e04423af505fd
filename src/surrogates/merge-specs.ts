/**
 * @file K networks of one layer structure merged into one network that averages their logits: the
 * members side by side in every layer (the first layer reads the shared input; each later conv or
 * dense layer is block-diagonal, so member k reads only member k's channels), and the last dense
 * layer sums the members' logits divided by K before the softmax. So the merged network's output
 * is softmax(mean_k z_k): the normalised geometric mean of the members' probabilities, one
 * NetworkSpec that every engine, the ONNX writer and `heist transfer` read as they read one member.
 * Its input gradients are exactly those of the ensemble's cross-entropy.
 * @see B. Lakshminarayanan, A. Pritzel, C. Blundell, "Simple and Scalable Predictive Uncertainty
 * Estimation using Deep Ensembles", NeurIPS 2017, arXiv:1612.01474 (ensembles of independently
 * initialised networks).
 */
import { HeistError } from '../core/errors.js';
import type { LayerSpec, NetworkSpec } from '../models/network-spec.js';

type Dense = Extract<LayerSpec, { type: 'dense' }>;
type Conv = Extract<LayerSpec, { type: 'conv2d' }>;

/** The spatial size [h, w] after each layer of a spec whose input is [h, w, c] (undefined once flat). */
function spatialBefore(spec: NetworkSpec): ([number, number] | undefined)[] {
  let hw: [number, number] | undefined =
    spec.inputShape.length === 3 ? [spec.inputShape[0], spec.inputShape[1]] : undefined;
  return spec.layers.map((l) => {
    const before = hw;
    if (hw && l.type === 'conv2d' && l.padding === 'valid')
      hw = [hw[0] - l.kernelSize[0] + 1, hw[1] - l.kernelSize[1] + 1];
    else if (hw && l.type === 'maxpool2d') hw = [Math.floor(hw[0] / l.size), Math.floor(hw[1] / l.size)];
    else if (l.type === 'flatten') hw = undefined;
    return before;
  });
}

function sameStructure(a: NetworkSpec, b: NetworkSpec): boolean {
  if (a.classes !== b.classes || a.inputShape.join() !== b.inputShape.join()) return false;
  if (a.layers.length !== b.layers.length) return false;
  return a.layers.every((l, i) => {
    const m = b.layers[i];
    if (l.type !== m.type) return false;
    if (l.type === 'dense' && m.type === 'dense') return l.inputs === m.inputs && l.units === m.units;
    if (l.type === 'conv2d' && m.type === 'conv2d')
      return (
        l.inChannels === m.inChannels &&
        l.filters === m.filters &&
        l.padding === m.padding &&
        l.kernelSize.join() === m.kernelSize.join()
      );
    if (l.type === 'maxpool2d' && m.type === 'maxpool2d') return l.size === m.size;
    return true;
  });
}

/** Member k's conv layers side by side: output channels k*filters.., input channels k*inChannels.. (or shared). */
function mergeConv(layers: Conv[], sharedInput: boolean): Conv {
  const K = layers.length;
  const [kh, kw] = layers[0].kernelSize;
  const cin = layers[0].inChannels;
  const cout = layers[0].filters;
  const inTotal = sharedInput ? cin : cin * K;
  const outTotal = cout * K;
  const kernel = new Float32Array(kh * kw * inTotal * outTotal);
  const bias = new Float32Array(outTotal);
  layers.forEach((l, k) => {
    const inBase = sharedInput ? 0 : k * cin;
    for (let p = 0; p < kh * kw; p++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          kernel[(p * inTotal + inBase + i) * outTotal + k * cout + o] = l.kernel[(p * cin + i) * cout + o];
    bias.set(l.bias, k * cout);
  });
  return { ...layers[0], inChannels: inTotal, filters: outTotal, kernel, bias };
}

/**
 * Member k's dense layers. `inputIndex(k, i)` maps member input i to the merged input (shared input:
 * i itself); the last layer (`average`) writes every member to the same outputs, scaled by 1/K.
 */
function mergeDense(
  layers: Dense[],
  inTotal: number,
  inputIndex: (k: number, i: number) => number,
  average: boolean,
): Dense {
  const K = layers.length;
  const { inputs, units } = layers[0];
  const outTotal = average ? units : units * K;
  const kernel = new Float32Array(inTotal * outTotal);
  const bias = new Float32Array(outTotal);
  layers.forEach((l, k) => {
    const outBase = average ? 0 : k * units;
    const scale = average ? 1 / K : 1;
    for (let i = 0; i < inputs; i++) {
      const row = inputIndex(k, i) * outTotal + outBase;
      for (let o = 0; o < units; o++) kernel[row + o] += l.kernel[i * units + o] * scale;
    }
    for (let o = 0; o < units; o++) bias[outBase + o] += l.bias[o] * scale;
  });
  return { type: 'dense', inputs: inTotal, units: outTotal, kernel, bias };
}

/** One network whose output is the softmax of the members' mean logits (see the file comment). */
export function mergeSpecs(specs: readonly NetworkSpec[]): NetworkSpec {
  if (specs.length === 0) throw new HeistError('HEIST_ERR_BAD_CONFIG', 'an ensemble needs at least one member');
  const first = specs[0];
  if (specs.length === 1) return first;
  if (!specs.every((s) => sameStructure(first, s)))
    throw new HeistError('HEIST_ERR_BAD_MODEL', 'ensemble members must share one layer structure');
  const lastDense = first.layers.map((l) => l.type).lastIndexOf('dense');
  const tail = first.layers.slice(lastDense + 1).map((l) => l.type);
  if (lastDense < 0 || tail.join() !== 'softmax')
    throw new HeistError('HEIST_ERR_BAD_MODEL', 'ensemble members must end in dense -> softmax');
  const K = specs.length;
  const hw = spatialBefore(first);
  // What the next merged layer reads: the shared input (before the first weighted layer), or the
  // members' blocks, laid out as [h, w, K * channels] while spatial, then K blocks side by side.
  let shared = true;
  let channels = first.inputShape[first.inputShape.length - 1];
  let flatFromSpatial: [number, number] | undefined; // [h * w, channels] of the flatten that made it
  const layers = first.layers.map((l, idx): LayerSpec => {
    const all = specs.map((s) => s.layers[idx]);
    if (l.type === 'conv2d') {
      const merged = mergeConv(all as Conv[], shared);
      shared = false;
      channels = l.filters;
      return merged;
    }
    if (l.type === 'flatten') {
      const [h, w] = hw[idx] ?? [1, 1];
      flatFromSpatial = shared ? undefined : [h * w, channels];
      return l;
    }
    if (l.type === 'dense') {
      const average = idx === lastDense;
      const members = all as Dense[];
      let inTotal: number;
      let inputIndex: (k: number, i: number) => number;
      if (shared) {
        inTotal = l.inputs;
        inputIndex = (_k, i) => i;
      } else if (flatFromSpatial) {
        // Flattened [h, w, K * c]: member k's feature (p, c) sits at p * K * c + k * c + c.
        const [, c] = flatFromSpatial;
        inTotal = l.inputs * K;
        inputIndex = (k, i) => Math.floor(i / c) * K * c + k * c + (i % c);
      } else {
        inTotal = l.inputs * K;
        inputIndex = (k, i) => k * l.inputs + i;
      }
      const merged = mergeDense(members, inTotal, inputIndex, average);
      shared = false;
      flatFromSpatial = undefined;
      return merged;
    }
    return l;
  });
  return { inputShape: [...first.inputShape], classes: first.classes, layers };
}
