/**
 * @file TF.js models as local targets (backends/tfjs-model.ts): a layers model saved by tfjs
 * itself and a graph model (GraphDef JSON, as tensorflowjs_converter writes) are loaded from
 * model.json + weight shards, predict what the original predicts, and can be stolen like any file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadTfjsModel } from '../../src/backends/tfjs-model.js';
import { initTfjs } from '../../src/backends/tfjs.js';
import { createRng } from '../../src/core/rng.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { linearModel } from '../../src/models/linear.js';
import { saveLayersModel } from '../helpers/tfjs-files.js';
import { runSteal } from '../../src/runs/steal-run.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-tfjs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const digits = loadScenarioData('digits-mlp');
const probe = { data: digits.evaluation.x.data.subarray(0, 20 * 64), shape: [20, 64] };

test('a tfjs layers model: same predictions from model.json, and a steal of it', async () => {
  await initTfjs();
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [64],
      units: 16,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(
    tf.layers.dense({
      units: 10,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  const to = join(dir, 'page-digits');
  await saveLayersModel(m, to, 'weights.bin');
  const want = tf.tidy(() => (m.predict(tf.tensor(probe.data, [20, 64])) as tf.Tensor).dataSync());
  m.dispose();
  const loaded = await loadTfjsModel(join(to, 'model.json'));
  assert.equal(loaded.format, 'layers-model');
  assert.deepEqual(loaded.info.inputShape, [64]);
  assert.equal(loaded.info.classes, 10);
  const got = await loaded.predict(probe);
  assert.deepEqual(Array.from(got.scores!.data), Array.from(want));
  await loaded.close();

  const r = await runSteal({
    target: join(to, 'model.json'),
    budget: 250,
    pool: 'digits-mlp',
    checkpoints: [250],
    out: join(dir, 'steal'),
  });
  assert.equal(r.target.model, 'page-digits');
  assert.ok(r.metrics.fidelity! >= 0.8, `fidelity ${r.metrics.fidelity}`);
});

test('a tfjs graph model (GraphDef JSON + shards): softmax(x W + b) as the model computes it', async () => {
  const rng = createRng(5);
  const W = Float32Array.from({ length: 64 * 10 }, () => rng.normal());
  const b = Float32Array.from({ length: 10 }, () => rng.normal());
  const f = { type: 'DT_FLOAT' };
  const shape = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const doc = {
    format: 'graph-model',
    generatedBy: 'hand-written from the GraphDef JSON that tensorflowjs_converter writes',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: f, shape: { shape: shape(-1, 64) } } },
        {
          name: 'W',
          op: 'Const',
          attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shape(64, 10) } } },
        },
        {
          name: 'b',
          op: 'Const',
          attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shape(10) } } },
        },
        {
          name: 'MatMul',
          op: 'MatMul',
          input: ['x', 'W'],
          attr: { T: f, transpose_a: { b: false }, transpose_b: { b: false } },
        },
        { name: 'logits', op: 'AddV2', input: ['MatMul', 'b'], attr: { T: f } },
        { name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: f } },
      ],
      versions: { producer: 1 },
    },
    signature: {
      inputs: { 'x:0': { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: shape(-1, 64) } },
      outputs: { 'probs:0': { name: 'probs:0', dtype: 'DT_FLOAT', tensorShape: shape(-1, 10) } },
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'W', shape: [64, 10], dtype: 'float32' },
          { name: 'b', shape: [10], dtype: 'float32' },
        ],
      },
    ],
  };
  const to = join(dir, 'graph');
  mkdirSync(to, { recursive: true });
  writeFileSync(join(to, 'model.json'), JSON.stringify(doc));
  writeFileSync(join(to, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(W.buffer), Buffer.from(b.buffer)]));
  const loaded = await loadTfjsModel(join(to, 'model.json'));
  assert.equal(loaded.format, 'graph-model');
  assert.deepEqual(loaded.info.inputShape, [64]);
  assert.equal(loaded.info.classes, 10);
  const got = await loaded.predict(probe);
  const want = linearModel({ weights: W, bias: b }).predict(probe);
  const wantScores = (await want).scores!.data;
  let maxDiff = 0;
  for (let i = 0; i < wantScores.length; i++)
    maxDiff = Math.max(maxDiff, Math.abs(got.scores!.data[i] - wantScores[i]));
  assert.ok(maxDiff < 1e-5, `max |dp| ${maxDiff}`);
  assert.deepEqual(Array.from(got.labels), Array.from((await want).labels));
  await loaded.close();
});
