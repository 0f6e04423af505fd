/** @file Registry, determinism, spec round trip, predict shapes and tensor leaks of the surrogates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { type Tensor, tensor } from '../core/tensor.js';
import { tfjsTensorCount } from '../backends/tfjs.js';
import { createSurrogate, surrogateFromSpec, surrogates } from './index.js';
import type { NetworkSpec } from '../models/network-spec.js';
import type { Arch, ArchOptions, TrainingSet } from './types.js';

function blobs(n: number, seed: number, shape: number[], classes: number): TrainingSet {
  const rng = createRng(seed);
  const d = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  const soft = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(classes);
    for (let j = 0; j < d; j++) x[i * d + j] = 0.3 * rng.next() + (j % classes === labels[i] ? 0.6 : 0);
    for (let c = 0; c < classes; c++) soft[i * classes + c] = c === labels[i] ? 0.8 : 0.2 / (classes - 1);
  }
  return { x: tensor(x, [n, ...shape]), labels, soft: tensor(soft, [n, classes]) };
}

const cases: [Arch, ArchOptions][] = [
  ['logreg', { inputShape: [6], classes: 3 }],
  ['mlp', { inputShape: [6], classes: 3 }],
  ['cnn', { inputShape: [8, 8, 1], classes: 3 }],
];

test('the registry names every arch', () => {
  assert.deepEqual(surrogates.names().sort(), ['cnn', 'logreg', 'mlp']);
});

for (const [arch, opts] of cases) {
  test(`${arch}: same seed gives bit-identical weights after fit; another seed does not`, async () => {
    const data = blobs(100, 1, [...opts.inputShape], opts.classes);
    const specs: NetworkSpec[] = [];
    for (const seed of [5, 5, 6]) {
      const s = await createSurrogate(arch, opts, createRng(seed));
      await s.fit(data, { loss: 'soft', epochs: 2, batchSize: 16, learningRate: 1e-2, rng: createRng(seed + 100) });
      specs.push(s.toSpec());
      s.dispose();
    }
    const flat = (i: number): number[] =>
      specs[i].layers.flatMap((l) => ('kernel' in l ? [...l.kernel, ...l.bias] : []));
    assert.deepEqual(flat(0), flat(1));
    assert.notDeepEqual(flat(0), flat(2));
    assert.equal(specs[0].layers[specs[0].layers.length - 1].type, 'softmax');
  });

  test(`${arch}: toSpec -> surrogateFromSpec predicts identically, flat or shaped rows`, async () => {
    const data = blobs(40, 2, [...opts.inputShape], opts.classes);
    const s = await createSurrogate(arch, opts, createRng(1));
    await s.fit(data, { loss: 'hard', epochs: 1, batchSize: 8, learningRate: 1e-2, rng: createRng(2) });
    const loaded = await surrogateFromSpec(s.toSpec());
    assert.equal(loaded.arch, arch);
    const a = await s.predict(data.x);
    const flatX: Tensor = { data: data.x.data, shape: [40, data.x.data.length / 40] };
    const b = await loaded.predict(flatX);
    assert.deepEqual(Array.from(a.scores!.data), Array.from(b.scores!.data));
    assert.deepEqual(a.scores!.shape, [40, opts.classes]);
    assert.equal(a.kind, 'probs');
    const sums = Array.from({ length: 40 }, (_, i) =>
      a.scores!.data.subarray(i * opts.classes, (i + 1) * opts.classes).reduce((p, q) => p + q, 0),
    );
    assert.ok(sums.every((v) => Math.abs(v - 1) < 1e-5));
    s.dispose();
    loaded.dispose();
  });
}

test('on the tfjs engine, fit, predict and reinitialize leak no tensors', async () => {
  const data = blobs(300, 3, [8, 8, 1], 3);
  const s = await createSurrogate('cnn', { inputShape: [8, 8, 1], classes: 3, engine: 'tfjs-wasm' }, createRng(1));
  await s.predict(data.x);
  const before = tfjsTensorCount();
  for (let i = 0; i < 2; i++) {
    await s.fit(data, {
      loss: 'soft',
      epochs: 1,
      batchSize: 64,
      learningRate: 1e-3,
      rng: createRng(i),
      reinitialize: i === 1,
    });
    await s.predict(data.x);
    s.toSpec();
  }
  assert.equal(tfjsTensorCount(), before);
  s.dispose();
  assert.ok(tfjsTensorCount() < before, 'dispose releases the weights');
});

test('reinitialize restarts from fresh weights; onEpoch sees every epoch', async () => {
  const data = blobs(60, 4, [6], 3);
  const s = await createSurrogate('mlp', { inputShape: [6], classes: 3 }, createRng(9));
  const epochs: number[] = [];
  const r1 = await s.fit(data, {
    loss: 'hard',
    epochs: 3,
    batchSize: 16,
    learningRate: 1e-2,
    rng: createRng(1),
    onEpoch: (e) => epochs.push(e),
  });
  assert.deepEqual(epochs, [0, 1, 2]);
  assert.equal(r1.samplesSeen, 180);
  const r2 = await s.fit(data, { loss: 'hard', epochs: 1, batchSize: 16, learningRate: 1e-2, rng: createRng(1) });
  const r3 = await s.fit(data, {
    loss: 'hard',
    epochs: 1,
    batchSize: 16,
    learningRate: 1e-2,
    rng: createRng(1),
    reinitialize: true,
  });
  assert.ok(r3.finalLoss > r2.finalLoss, `fresh weights should fit worse (${r3.finalLoss} vs ${r2.finalLoss})`);
  s.dispose();
});

test('bad shapes and missing soft targets are reported with codes', async () => {
  const s = await createSurrogate('logreg', { inputShape: [6], classes: 3 }, createRng(1));
  await assert.rejects(
    async () => s.predict(tensor(new Float32Array(10), [2, 5])),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_SHAPE'),
  );
  const { x, labels } = blobs(10, 1, [6], 3);
  await assert.rejects(
    s.fit({ x, labels }, { loss: 'soft', epochs: 1, batchSize: 4, learningRate: 1e-3, rng: createRng(1) }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_REQUIREMENTS'),
  );
  await assert.rejects(createSurrogate('cnn', { inputShape: [64], classes: 3 }, createRng(1)), (e: unknown) =>
    isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  await assert.rejects(createSurrogate('nope' as Arch, { inputShape: [64], classes: 3 }, createRng(1)), (e: unknown) =>
    isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  s.dispose();
});
