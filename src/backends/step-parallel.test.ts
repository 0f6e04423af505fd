/**
 * @file step-parallel.ts: how a mini-batch is cut into slices, that a worker which cannot start
 * surfaces as a HEIST_ERR_INTERNAL error instead of a hang (and is not pooled again), that a pool
 * thread serves one net after another with the same results as a fresh one, and the
 * HEIST_TRAIN_WORKERS setting.
 * That a split fit matches the one-thread fit is the engine conformance suite's test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../core/rng.js';
import { specWeights } from '../models/network-spec.js';
import { cnnSpec, initWeights } from '../surrogates/index.js';
import { StepWorkers, closeIdleStepWorkers, idleStepWorkers, splitRows } from './step-parallel.js';
import { createTrainNet, warmUpTraining } from './train-engines.js';
import { defaultTrainWorkers } from './train-engines.js';

/** A small CNN on 8x8 images of 3 classes, initialised from `seed`, and n random rows (rng seed + 1). */
function tinyCnnTask(seed: number, n: number) {
  const spec = initWeights(cnnSpec({ inputShape: [8, 8, 1], classes: 3 }), createRng(seed));
  const rng = createRng(seed + 1);
  const x = Float32Array.from({ length: n * 64 }, () => rng.next());
  const t = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) t[i * 3 + rng.int(3)] = 1;
  return { spec, x, t, n };
}

test('splitRows cuts rows into contiguous slices as equal as possible, larger first, none empty', () => {
  assert.deepEqual(splitRows(32, 2), [
    [0, 16],
    [16, 32],
  ]);
  assert.deepEqual(splitRows(5, 2), [
    [0, 3],
    [3, 5],
  ]);
  assert.deepEqual(splitRows(7, 3), [
    [0, 3],
    [3, 5],
    [5, 7],
  ]);
  assert.deepEqual(splitRows(1, 2), [[0, 1]]);
});

test('a worker whose graph does not load rejects whenReady with HEIST_ERR_INTERNAL', async () => {
  await closeIdleStepWorkers();
  const pool = new StepWorkers(1, {
    graph: Uint8Array.of(1, 2, 3, 4),
    paramShapes: [[2, 2]],
    inputShape: [2],
    classes: 2,
    maxRows: 4,
  });
  try {
    await assert.rejects(pool.whenReady(), (e: { code?: string; message: string }) => {
      assert.equal(e.code, 'HEIST_ERR_INTERNAL');
      assert.match(e.message, /training worker thread failed/);
      return true;
    });
  } finally {
    pool.close();
  }
  assert.equal(idleStepWorkers(), 0, 'the thread of a failed lease is stopped, not pooled');
});

test('a pool thread serves one net after another: the same weights as from a fresh thread', async () => {
  const { spec, x, t, n } = tinyCnnTask(5, 24);
  const fit = async (): Promise<Float32Array[]> => {
    const net = await createTrainNet(spec, 'onnxruntime', 1, 2);
    try {
      const order = createRng(7);
      await net.fit(x, t, n, {
        epochs: 3,
        batchSize: 8,
        learningRate: 0.01,
        shuffle: (o) => {
          for (let i = o.length - 1; i > 0; i--) {
            const j = order.int(i + 1);
            [o[i], o[j]] = [o[j], o[i]];
          }
        },
      });
      return net.readWeights();
    } finally {
      net.dispose();
    }
  };
  await closeIdleStepWorkers();
  const fresh = await fit();
  assert.equal(idleStepWorkers(), 1, 'the thread goes back to the pool with dispose()');
  await closeIdleStepWorkers();
  warmUpTraining('onnxruntime', 2);
  assert.equal(idleStepWorkers(), 1, 'warm-up starts the thread a 2-worker fit needs');
  assert.deepEqual(await fit(), fresh, 'a warmed thread gives the same weights');
  assert.equal(idleStepWorkers(), 1, 'the fit leased the warmed thread, and no other');
  const reused = await fit();
  assert.equal(idleStepWorkers(), 1, 'the second net leased the same thread');
  fresh.forEach((w, k) => {
    assert.deepEqual(reused[k], w, `param ${k}`);
  });
  await closeIdleStepWorkers();
  assert.equal(idleStepWorkers(), 0);
});

test('a split fit that throws half-way ends its lease; the threads serve the next fit as if fresh', async () => {
  const { spec, x, t, n } = tinyCnnTask(8, 16);
  const options = { epochs: 2, batchSize: 8, learningRate: 0.01, shuffle: () => undefined };
  const net = await createTrainNet(spec, 'onnxruntime', 1, 2);
  let calls = 0;
  await assert.rejects(
    net.fit(x, t, n, {
      ...options,
      augment: () => {
        if (++calls === 3) throw new Error('augment failed');
      },
    }),
    /augment failed/,
  );
  net.writeWeights(specWeights(spec.layers));
  await net.fit(x, t, n, options);
  const after = net.readWeights();
  net.dispose();
  const fresh = await createTrainNet(spec, 'onnxruntime', 1, 2);
  await fresh.fit(x, t, n, options);
  fresh.readWeights().forEach((w, k) => {
    assert.deepEqual(after[k], w, `param ${k}`);
  });
  fresh.dispose();
});

test('HEIST_TRAIN_WORKERS: a positive integer, 1 when unset, HEIST_ERR_BAD_CONFIG otherwise', () => {
  const keep = process.env.HEIST_TRAIN_WORKERS;
  try {
    delete process.env.HEIST_TRAIN_WORKERS;
    assert.equal(defaultTrainWorkers(), 1);
    process.env.HEIST_TRAIN_WORKERS = '2';
    assert.equal(defaultTrainWorkers(), 2);
    for (const bad of ['0', '1.5', 'two']) {
      process.env.HEIST_TRAIN_WORKERS = bad;
      assert.throws(defaultTrainWorkers, (e: { code?: string }) => e.code === 'HEIST_ERR_BAD_CONFIG');
    }
  } finally {
    if (keep === undefined) delete process.env.HEIST_TRAIN_WORKERS;
    else process.env.HEIST_TRAIN_WORKERS = keep;
  }
});
