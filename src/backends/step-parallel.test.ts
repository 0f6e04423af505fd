/**
 * @file step-parallel.ts: how a mini-batch is cut into slices, that a worker which cannot start
 * surfaces as a HEIST_ERR_INTERNAL error instead of a hang, and the HEIST_TRAIN_WORKERS setting.
 * That a split fit matches the one-thread fit is the engine conformance suite's test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StepWorkers, splitRows } from './step-parallel.js';
import { defaultTrainWorkers } from './train-engines.js';

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
