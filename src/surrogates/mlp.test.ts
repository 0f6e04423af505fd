/** @file MLP: default widths, and learning a problem that is not linearly separable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { tensor } from '../core/tensor.js';
import { createSurrogate } from './index.js';
import { defaultHidden, mlpSpec } from './mlp.js';

test('default hidden widths: [32] up to 100 inputs, [256, 128] above; hidden overrides', () => {
  assert.deepEqual(defaultHidden(100), [32]);
  assert.deepEqual(defaultHidden(784), [256, 128]);
  const units = (s: ReturnType<typeof mlpSpec>): number[] =>
    s.layers.flatMap((l) => (l.type === 'dense' ? [l.units] : []));
  assert.deepEqual(units(mlpSpec({ inputShape: [28, 28, 1], classes: 10 })), [256, 128, 10]);
  assert.deepEqual(units(mlpSpec({ inputShape: [5], classes: 2, hidden: [7, 3] })), [7, 3, 2]);
  assert.deepEqual(
    mlpSpec({ inputShape: [28, 28, 1], classes: 10 })
      .layers.map((l) => l.type)
      .slice(0, 3),
    ['flatten', 'dense', 'relu'],
  );
});

test('mlp learns XOR-like quadrants (soft targets) to > 0.95 accuracy; logreg cannot', async () => {
  const rng = createRng(3);
  const n = 800;
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  const soft = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const a = rng.uniform(-1, 1);
    const b = rng.uniform(-1, 1);
    x[2 * i] = a;
    x[2 * i + 1] = b;
    labels[i] = a * b > 0 ? 1 : 0;
    soft[2 * i + labels[i]] = 0.9;
    soft[2 * i + 1 - labels[i]] = 0.1;
  }
  const data = { x: tensor(x, [n, 2]), labels, soft: tensor(soft, [n, 2]) };
  const acc = (l: Int32Array): number => l.filter((v, i) => v === labels[i]).length / n;
  const results: Record<string, number> = {};
  for (const arch of ['mlp', 'logreg'] as const) {
    const s = await createSurrogate(arch, { inputShape: [2], classes: 2 }, createRng(1));
    await s.fit(data, { loss: 'soft', epochs: 60, batchSize: 32, learningRate: 1e-2, rng: createRng(2) });
    results[arch] = acc((await s.predict(data.x)).labels);
    s.dispose();
  }
  assert.ok(results.mlp > 0.95, `mlp accuracy ${results.mlp}`);
  assert.ok(results.logreg < 0.75, `logreg accuracy ${results.logreg}`);
});
