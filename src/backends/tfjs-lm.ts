/**
 * @file Trains a TinyLm (models/tiny-lm.ts) on a byte corpus with tfjs (wasm) gradients and the
 * JS Adam of tfjs-adam.ts. Embedding lookups are one-hot matmuls (differentiable on wasm). Weights
 * are re-uploaded as new tensors after each step (never mutated in place: see tfjs-net.ts).
 * Initialisation and batch sampling come from the caller's Rng, so a seed fixes the result.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import { PAD_TOKEN } from '../models/byte-tokenizer.js';
import { type TinyLmParams, type TinyLmShape, paramShapes } from '../models/tiny-lm.js';
import { JsAdam } from './tfjs-adam.js';
import { initTfjs } from './tfjs.js';

export interface LmTrainOptions {
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly rng: Rng;
  /** Called every `every` steps with the mean loss since the last call (nats per byte). */
  readonly onProgress?: (step: number, loss: number) => void;
  readonly every?: number;
}

export interface LmTrainResult {
  readonly params: TinyLmParams;
  readonly finalLoss: number;
  readonly steps: number;
}

const ORDER: readonly (keyof TinyLmParams)[] = ['embedding', 'w1', 'b1', 'w2', 'b2', 'unembed'];

function initParams(s: TinyLmShape, rng: Rng): Float32Array[] {
  const shapes = paramShapes(s);
  const scale: Record<keyof TinyLmParams, number> = {
    embedding: 0.5,
    w1: Math.sqrt(2 / (s.context * s.embed)),
    b1: 0,
    w2: Math.sqrt(1 / s.mlp),
    b2: 0,
    unembed: Math.sqrt(1 / s.hidden),
  };
  return ORDER.map((k) =>
    Float32Array.from({ length: shapes[k].reduce((a, b) => a * b, 1) }, () => scale[k] * rng.normal()),
  );
}

/** Mean next-byte cross-entropy of a batch, as a function of the parameters (for tf.valueAndGrads). */
function lossFn(s: TinyLmShape, ctx: tf.Tensor1D, next: tf.Tensor1D, n: number) {
  return (e: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor, w: tf.Tensor): tf.Scalar => {
    const onehot = tf.oneHot(ctx, s.vocab).toFloat() as tf.Tensor2D;
    const x = tf.reshape(tf.matMul(onehot, e as tf.Tensor2D), [n, s.context * s.embed]) as tf.Tensor2D;
    const a = tf.relu(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1)) as tf.Tensor2D;
    const g = tf.tanh(tf.add(tf.matMul(a, w2 as tf.Tensor2D), b2)) as tf.Tensor2D;
    const logits = tf.matMul(g, w as tf.Tensor2D, false, true);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(next, s.vocab).toFloat(), logits) as tf.Scalar;
  };
}

/** Windows ending just before random corpus positions (left-padded with PAD at the start). */
function sampleBatch(corpus: Uint8Array, s: TinyLmShape, n: number, rng: Rng): { ctx: Int32Array; next: Int32Array } {
  const ctx = new Int32Array(n * s.context);
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = rng.int(corpus.length);
    next[i] = corpus[p];
    for (let j = 0; j < s.context; j++) {
      const q = p - s.context + j;
      ctx[i * s.context + j] = q < 0 ? PAD_TOKEN : corpus[q];
    }
  }
  return { ctx, next };
}

export async function trainTinyLm(corpus: Uint8Array, shape: TinyLmShape, o: LmTrainOptions): Promise<LmTrainResult> {
  await initTfjs();
  const shapes = paramShapes(shape);
  const host = initParams(shape, o.rng.fork('init'));
  const batchRng = o.rng.fork('batches');
  const opt = new JsAdam(
    host.map((h) => h.length),
    { learningRate: o.learningRate },
  );
  const every = o.every ?? 100;
  let weights = host.map((h, k) => tf.tensor(h, shapes[ORDER[k]]));
  let window = 0;
  let windowN = 0;
  let finalLoss = NaN;
  try {
    for (let step = 1; step <= o.steps; step++) {
      const { ctx, next } = sampleBatch(corpus, shape, o.batchSize, batchRng);
      opt.setLearningRate(o.learningRate * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / o.steps)));
      opt.beginStep();
      tf.tidy(() => {
        const f = lossFn(shape, tf.tensor1d(ctx, 'int32'), tf.tensor1d(next, 'int32'), o.batchSize);
        const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => f(ps[0], ps[1], ps[2], ps[3], ps[4], ps[5]))(
          weights,
        );
        grads.forEach((g, k) => {
          opt.update(k, host[k], g.dataSync() as Float32Array);
        });
        const l = value.dataSync()[0];
        window += l;
        windowN++;
        finalLoss = l;
      });
      for (const w of weights) w.dispose();
      weights = host.map((h, k) => tf.tensor(h, shapes[ORDER[k]]));
      if (step % every === 0 || step === o.steps) {
        o.onProgress?.(step, window / windowN);
        finalLoss = window / windowN;
        window = 0;
        windowN = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    for (const w of weights) w.dispose();
  }
  const params = Object.fromEntries(ORDER.map((k, i) => [k, host[i]])) as unknown as TinyLmParams;
  return { params, finalLoss, steps: o.steps };
}
