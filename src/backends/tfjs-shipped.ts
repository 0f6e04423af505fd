/**
 * @file Benchmark reference only: the same MLP / CNN built with tf.layers and trained with
 * trainOnBatch, i.e. tfjs "as shipped" (autograd with the backend's own gradient kernels, no shims).
 * On wasm the CNN cannot train (no Conv2DBackpropFilter kernel), so callers pass backend 'cpu'.
 */
import * as tf from '@tensorflow/tfjs';
import { initTfjs } from './tfjs.js';

function build(arch: 'mlp' | 'cnn'): tf.Sequential {
  const m = tf.sequential();
  if (arch === 'mlp') {
    m.add(tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 128, activation: 'relu' }));
  } else {
    m.add(
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
    );
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 64, activation: 'relu' }));
  }
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

/**
 * Training samples/s of the tf.layers model at the given batch size on random data, after one
 * warm-up batch, on `backend`; the wasm backend is restored afterwards.
 */
export async function shippedSamplesPerSecond(
  arch: 'mlp' | 'cnn',
  backend: 'wasm' | 'cpu',
  batch: number,
  batches: number,
): Promise<number> {
  await initTfjs();
  const before = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const model = build(arch);
    const shape = arch === 'mlp' ? [batch, 784] : [batch, 28, 28, 1];
    // Deterministic pseudo-random inputs (no Math.random): a fixed sine pattern.
    const x = tf.tidy(() =>
      tf
        .sin(
          tf.mul(
            tf.range(
              0,
              shape.reduce((a, b) => a * b, 1),
            ),
            12.9898,
          ),
        )
        .reshape(shape),
    );
    const y = tf.tidy(() => tf.oneHot(tf.cast(tf.mul(tf.abs(tf.sin(tf.range(0, batch))), 9.99), 'int32'), 10));
    await model.trainOnBatch(x, y);
    const t0 = performance.now();
    for (let i = 0; i < batches; i++) await model.trainOnBatch(x, y);
    const s = (performance.now() - t0) / 1000;
    model.dispose();
    x.dispose();
    y.dispose();
    return (batch * batches) / s;
  } finally {
    await tf.setBackend(before);
  }
}
