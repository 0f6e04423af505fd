/** @file The onnxruntime wrapper: loading from bytes and paths, concurrent runs, close, bad files. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mlpSpec, randomRows } from '../../test/fixtures/random-network-specs.js';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { type OnnxRunResult, loadOnnxSession } from './onnx.js';
import { networkToOnnx } from './onnx-writer.js';

const bytes = networkToOnnx(mlpSpec(createRng(21), 8, [6], 3), { name: 'tiny', domain: { min: 0, max: 1 } });

test('loads from a path and from bytes with the same answers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-onnx-'));
  try {
    const file = join(dir, 'tiny.onnx');
    writeFileSync(file, bytes);
    const [a, b] = await Promise.all([loadOnnxSession(file), loadOnnxSession(bytes)]);
    const x = randomRows(createRng(22), 5, [8]);
    assert.deepEqual((await a.run(x.data, x.shape)).data, (await b.run(x.data, x.shape)).data);
    assert.equal(a.metadata['heist.name'], 'tiny');
    await Promise.all([a.close(), b.close()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('concurrent runs on one session give the same answers as sequential ones; close waits, then refuses', async () => {
  const s = await loadOnnxSession(bytes);
  const rng = createRng(23);
  const batches = Array.from({ length: 20 }, (_, i) => randomRows(rng, 1 + i, [8]));
  const sequential: OnnxRunResult[] = [];
  for (const x of batches) sequential.push(await s.run(x.data, x.shape));
  const concurrent = await Promise.all(batches.map((x) => s.run(x.data, x.shape)));
  concurrent.forEach((r, i) => {
    assert.deepEqual(r.dims, [1 + i, 3]);
    assert.deepEqual(r.data, sequential[i].data);
  });
  const pending = s.run(batches[0].data, batches[0].shape);
  await Promise.all([s.close(), s.close()]);
  await pending;
  await assert.rejects(s.run(batches[0].data, batches[0].shape), (e) => isHeistError(e, 'HEIST_ERR_INTERNAL'));
});

test('subarray inputs (non-zero byteOffset) are read at their offset', async () => {
  const s = await loadOnnxSession(bytes);
  const x = randomRows(createRng(24), 6, [8]);
  const whole = await s.run(x.data, x.shape);
  const tail = await s.run(x.data.subarray(3 * 8), [3, 8]);
  assert.deepEqual(tail.data, whole.data.subarray(3 * 3));
  await s.close();
});

test('wrong input dims -> HEIST_ERR_SHAPE', async () => {
  const s = await loadOnnxSession(bytes);
  await assert.rejects(s.run(new Float32Array(7), [1, 7]), (e) => isHeistError(e, 'HEIST_ERR_SHAPE'));
  await s.close();
});

test('unreadable or non-ONNX input -> HEIST_ERR_BAD_MODEL', async () => {
  const bad = (e: unknown): boolean => isHeistError(e, 'HEIST_ERR_BAD_MODEL');
  await assert.rejects(loadOnnxSession('/nonexistent/model.onnx'), bad);
  await assert.rejects(loadOnnxSession(new TextEncoder().encode('this is not a protobuf, just text')), bad);
  await assert.rejects(loadOnnxSession(new Uint8Array(0)), bad);
  await assert.rejects(loadOnnxSession(bytes.slice(0, Math.floor(bytes.length / 2))), bad);
});
