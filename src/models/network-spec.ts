/**
 * @file A framework-free description of a feed-forward classifier: the interchange between the
 * trainer (tfjs, in backends/), the ONNX writer and plain-TS inference. Layout is NHWC, like tfjs:
 * conv kernels are [kh, kw, cin, cout], dense kernels are [in, out], flatten is row-major over
 * [h, w, c].
 */
export type LayerSpec =
  | {
      readonly type: 'dense';
      readonly inputs: number;
      readonly units: number;
      readonly kernel: Float32Array;
      readonly bias: Float32Array;
    }
  | {
      readonly type: 'conv2d';
      readonly kernelSize: readonly [number, number];
      readonly inChannels: number;
      readonly filters: number;
      readonly padding: 'same' | 'valid';
      readonly kernel: Float32Array;
      readonly bias: Float32Array;
    }
  | { readonly type: 'relu' }
  | { readonly type: 'maxpool2d'; readonly size: number }
  | { readonly type: 'flatten' }
  | { readonly type: 'softmax' };

export interface NetworkSpec {
  /** Shape of one input row: [features] for dense nets, [h, w, c] for conv nets. */
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly layers: readonly LayerSpec[];
}

/** The weights of a network in order: kernel then bias of each dense and conv layer (not copied). */
export function specWeights(layers: readonly LayerSpec[]): Float32Array[] {
  return layers.flatMap((l) => (l.type === 'dense' || l.type === 'conv2d' ? [l.kernel, l.bias] : []));
}

/** The layers with their weights replaced by `weights`, given in specWeights order. */
export function withWeights(layers: readonly LayerSpec[], weights: readonly Float32Array[]): LayerSpec[] {
  let k = 0;
  return layers.map((l) =>
    l.type === 'dense' || l.type === 'conv2d' ? { ...l, kernel: weights[k++], bias: weights[k++] } : l,
  );
}
