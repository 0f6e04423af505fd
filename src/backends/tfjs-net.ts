/**
 * @file TfNet: a feed-forward classifier held as tfjs tensors, built from a NetworkSpec, with a
 * hand-written forward/backward pass (see tfjs-ops.ts) and Adam. Data are uploaded once per fit;
 * each step gathers its mini-batch on the backend, so the hot path copies nothing in JS. fit()
 * yields to the event loop after each epoch. The units come from net-units.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkSpec } from '../models/network-spec.js';
import { type Unit, compileUnits } from './net-units.js';
import type { NetFitOptions, NetFitResult, TrainNet } from './train-net.js';
import { JsAdam } from './tfjs-adam.js';
import * as ops from './tfjs-ops.js';

/** What a unit keeps from the forward pass for its backward pass. */
interface Cache {
  x: tf.Tensor;
  y: tf.Tensor;
}

export class TfNet implements TrainNet {
  readonly inputShape: readonly number[];
  readonly classes: number;
  private readonly units: Unit[];
  private readonly shapes: number[][];
  /** Master copy of the weights in JS (Adam updates it), mirrored by `weights` on the backend. */
  private readonly host: Float32Array[];
  private readonly weights: tf.Tensor[];

  /** Uploads the spec's weights (initTfjs must have run). */
  constructor(spec: NetworkSpec) {
    const { units, params, shapes } = compileUnits(spec.layers);
    this.inputShape = [...spec.inputShape];
    this.classes = spec.classes;
    this.units = units;
    this.shapes = shapes;
    this.host = params.map((p) => Float32Array.from(p));
    this.weights = this.host.map((p, k) => tf.tensor(p, shapes[k]));
  }

  /** Current weights (copies), in spec order (kernel, bias per dense/conv layer). */
  readWeights(): Float32Array[] {
    return this.host.map((w) => Float32Array.from(w));
  }

  /** Replaces every weight (same shapes as the spec). */
  writeWeights(values: readonly Float32Array[]): void {
    values.forEach((v, k) => {
      this.host[k].set(v);
    });
    this.upload();
  }

  /**
   * Re-uploads the host weights as new tensors. Weights are never mutated in place on the backend:
   * wasm caches XNNPACK operators (with packed weights) by tensor id.
   */
  private upload(): void {
    for (let k = 0; k < this.host.length; k++) {
      this.weights[k].dispose();
      this.weights[k] = tf.tensor(this.host[k], this.shapes[k]);
    }
  }

  private forward(x: tf.Tensor, caches?: Cache[]): tf.Tensor2D {
    let h = tf.reshape(x, [-1, ...this.inputShape]);
    for (const u of this.units) {
      const x0 = h;
      if (u.kind === 'dense')
        h = ops.denseForward(
          h as tf.Tensor2D,
          this.weights[u.p] as tf.Tensor2D,
          this.weights[u.p + 1] as tf.Tensor1D,
          u.relu,
        );
      else if (u.kind === 'conv')
        h = ops.conv2dForward(
          h as tf.Tensor4D,
          this.weights[u.p] as tf.Tensor4D,
          this.weights[u.p + 1] as tf.Tensor1D,
          u.pad,
          u.relu,
        );
      else if (u.kind === 'pool') h = ops.maxPoolForward(h as tf.Tensor4D, u.size);
      else if (u.kind === 'relu') h = tf.relu(h);
      else h = tf.reshape(h, [h.shape[0], -1]);
      caches?.push({ x: x0, y: h });
    }
    return h as tf.Tensor2D;
  }

  /** Parameter gradients (spec order), and with `toInput` the gradient at the input as last element. */
  private backward(dlogits: tf.Tensor2D, caches: Cache[], toInput = false): tf.Tensor[] {
    const grads: tf.Tensor[] = new Array(this.weights.length);
    let g: tf.Tensor = dlogits;
    for (let k = this.units.length - 1; k >= 0; k--) {
      const u = this.units[k];
      const { x, y } = caches[k];
      const needDx = k > 0 || toInput;
      if (u.kind === 'dense') {
        if (u.relu) g = ops.reluBackward(y, g);
        const r = ops.denseBackward(x as tf.Tensor2D, this.weights[u.p] as tf.Tensor2D, g as tf.Tensor2D, needDx);
        grads[u.p] = r.dw;
        grads[u.p + 1] = r.db;
        if (r.dx) g = r.dx;
      } else if (u.kind === 'conv') {
        if (u.relu) g = ops.reluBackward(y, g);
        grads[u.p] = ops.conv2dBackpropFilter(x as tf.Tensor4D, g as tf.Tensor4D, u.kh, u.kw, u.pad);
        grads[u.p + 1] = ops.conv2dBiasGrad(g as tf.Tensor4D);
        if (needDx) g = ops.conv2dBackpropInput(g as tf.Tensor4D, this.weights[u.p] as tf.Tensor4D, u.pad);
      } else if (u.kind === 'pool')
        g = ops.maxPoolBackward(x as tf.Tensor4D, y as tf.Tensor4D, g as tf.Tensor4D, u.size);
      else if (u.kind === 'relu') g = ops.reluBackward(y, g);
      else g = tf.reshape(g, x.shape);
    }
    return toInput ? [...grads, g] : grads;
  }

  /** Softmax probabilities for n rows of flat inputs, computed in chunks of `chunk` rows. */
  predictProbs(data: Float32Array, n: number, chunk = 1024): Float32Array {
    const d = data.length / Math.max(n, 1);
    const out = new Float32Array(n * this.classes);
    for (let s = 0; s < n; s += chunk) {
      const e = Math.min(n, s + chunk);
      const probs = tf.tidy(() => tf.softmax(this.forward(tf.tensor2d(data.subarray(s * d, e * d), [e - s, d]))));
      out.set(probs.dataSync() as Float32Array, s * this.classes);
      probs.dispose();
    }
    return out;
  }

  /** Mean cross-entropy and its gradients (spec order) on n rows: one full batch, no update. */
  gradients(x: Float32Array, targets: Float32Array, n: number): { loss: number; grads: Float32Array[] } {
    return tf.tidy(() => {
      const caches: Cache[] = [];
      const logits = this.forward(tf.tensor2d(x, [n, x.length / n]), caches);
      const ce = ops.softmaxCrossEntropy(logits, tf.tensor2d(targets, [n, this.classes]));
      const grads = this.backward(ce.dlogits, caches).map((g) => Float32Array.from(g.dataSync() as Float32Array));
      return { loss: ce.loss.dataSync()[0], grads };
    });
  }

  /** Row i: d CE(row i, targets i) / d x_i (each row's own loss), flat like x. */
  inputGradients(x: Float32Array, targets: Float32Array, n: number): Float32Array {
    return tf.tidy(() => {
      const caches: Cache[] = [];
      const logits = this.forward(tf.tensor2d(x, [n, x.length / n]), caches);
      // (softmax - t) per row: the gradient of each row's own loss, not of the mean.
      const dlogits = tf.sub(tf.softmax(logits), tf.tensor2d(targets, [n, this.classes])) as tf.Tensor2D;
      const all = this.backward(dlogits, caches, true);
      return Float32Array.from(all[all.length - 1].dataSync() as Float32Array);
    });
  }

  /** Mini-batch Adam on cross-entropy to `targets` ([n, classes] rows summing to 1). */
  async fit(x: Float32Array, targets: Float32Array, n: number, o: NetFitOptions): Promise<NetFitResult> {
    const d = x.length / n;
    const xAll = tf.tensor2d(x, [n, d]);
    const tAll = tf.tensor2d(targets, [n, this.classes]);
    const opt = new JsAdam(
      this.host.map((w) => w.length),
      { learningRate: o.learningRate },
    );
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const batch = Math.max(1, Math.min(o.batchSize, n));
    let finalLoss = NaN;
    let seen = 0;
    const totalSteps = o.epochs * Math.ceil(n / batch);
    let step = 0;
    try {
      for (let epoch = 0; epoch < o.epochs; epoch++) {
        o.shuffle(order);
        let lossSum = 0;
        for (let s = 0; s < n; s += batch) {
          const e = Math.min(n, s + batch);
          tf.tidy(() => {
            const idx = tf.tensor1d(order.subarray(s, e), 'int32');
            const caches: Cache[] = [];
            const logits = this.forward(
              o.augment ? this.augmentedBatch(x, d, order.subarray(s, e), o.augment) : tf.gather(xAll, idx),
              caches,
            );
            const ce = ops.softmaxCrossEntropy(logits, tf.gather(tAll, idx) as tf.Tensor2D);
            const grads = this.backward(ce.dlogits, caches);
            if (o.schedule === 'cosine')
              opt.setLearningRate(o.learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps)));
            step++;
            opt.beginStep();
            grads.forEach((g, k) => {
              opt.update(k, this.host[k], g.dataSync() as Float32Array);
            });
            lossSum += ce.loss.dataSync()[0] * (e - s);
          });
          this.upload();
          seen += e - s;
        }
        finalLoss = lossSum / n;
        o.onEpoch?.(epoch, finalLoss);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      xAll.dispose();
      tAll.dispose();
    }
    return { epochs: o.epochs, samplesSeen: seen, finalLoss };
  }

  /** Copies the batch rows on the host, lets `augment` transform them, uploads the result. */
  private augmentedBatch(
    x: Float32Array,
    d: number,
    rows: Int32Array,
    augment: (b: Float32Array, n: number) => void,
  ): tf.Tensor {
    const batch = new Float32Array(rows.length * d);
    rows.forEach((r, i) => {
      batch.set(x.subarray(r * d, (r + 1) * d), i * d);
    });
    augment(batch, rows.length);
    return tf.tensor2d(batch, [rows.length, d]);
  }

  dispose(): void {
    for (const w of this.weights) w.dispose();
  }
}
