/** @file CNN: the exact layer stack and shapes, and learning a small image task. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { tensor } from '../core/tensor.js';
import { cnnSpec } from './cnn.js';
import { createSurrogate } from './index.js';

test('cnn spec: conv16-relu-pool-conv32-relu-pool-flatten-dense64-relu-dense-softmax, NHWC shapes', () => {
  const spec = cnnSpec({ inputShape: [28, 28, 1], classes: 10 });
  assert.deepEqual(
    spec.layers.map((l) => l.type),
    ['conv2d', 'relu', 'maxpool2d', 'conv2d', 'relu', 'maxpool2d', 'flatten', 'dense', 'relu', 'dense', 'softmax'],
  );
  const [c1, , , c2, , , , d1, , d2] = spec.layers;
  assert.ok(c1.type === 'conv2d' && c1.kernel.length === 3 * 3 * 1 * 16 && c1.padding === 'same' && c1.filters === 16);
  assert.ok(c2.type === 'conv2d' && c2.kernel.length === 3 * 3 * 16 * 32 && c2.inChannels === 16);
  assert.ok(d1.type === 'dense' && d1.inputs === 7 * 7 * 32 && d1.units === 64);
  assert.ok(d2.type === 'dense' && d2.inputs === 64 && d2.units === 10);
});

test('cnn learns where a bright bar is (4 classes) to > 0.95 accuracy', async () => {
  const rng = createRng(5);
  const n = 400;
  const x = new Float32Array(n * 12 * 12);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    labels[i] = c;
    for (let p = 0; p < 144; p++) x[i * 144 + p] = 0.3 * rng.next();
    const r = rng.int(12);
    for (let k = 0; k < 6; k++) {
      const [yy, xx] = c < 2 ? [r, (c === 0 ? 0 : 6) + k] : [(c === 2 ? 0 : 6) + k, r];
      x[i * 144 + yy * 12 + xx] = 1;
    }
  }
  const s = await createSurrogate('cnn', { inputShape: [12, 12, 1], classes: 4 }, createRng(1));
  await s.fit(
    { x: tensor(x, [n, 12, 12, 1]), labels },
    { loss: 'hard', epochs: 15, batchSize: 32, learningRate: 2e-3, rng: createRng(2) },
  );
  const p = await s.predict(tensor(x, [n, 144]));
  const acc = p.labels.filter((v, i) => v === labels[i]).length / n;
  assert.ok(acc > 0.95, `accuracy ${acc}`);
  s.dispose();
});
