/**
 * @file PRADA on real victims, through the defense pipeline: (a) a Jacobian-augmentation-like
 * attacker (seed rows plus steps of lambda = 0.1 along random sign directions, clipped to [0, 1],
 * the set doubling each round as in Papernot et al.'s JBDA) on digits-mlp is flagged, and how many
 * queries that took; (b) honest clients replaying distinct held-out MNIST rows (mnist-cnn's 2000-row
 * evaluation split, 1,000 rows each, no row twice per client) are not flagged; (c) how many
 * natural-pool attackers (distinct random pool rows) PRADA misses, which the paper expects: such
 * queries look like honest ones. Also: `block` refuses once flagged, per-client state, memory bounds.
 * The measured numbers are printed (t.diagnostic) and recorded in docs/detectors.md.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import type { ModelInfo } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { rowSize, tensor } from '../../src/core/tensor.js';
import { silentLogger } from '../../src/core/types.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { defenses, prada } from '../../src/defenses/index.js';
import { type Labelled, jbdaQueries, labelAnswer, labelled, rowAt, stream as send } from './streams.js';

/** Sends rows (given as copies with their labels) one request per `batch` rows; returns the request index of the first flag. */
async function stream(
  stage: ReturnType<typeof prada>,
  info: ModelInfo,
  apiKey: string,
  rows: readonly Float32Array[],
  labelOf: (x: Float32Array, i: number) => number,
  batch = 10,
): Promise<{ firstFlag: number | undefined; rejected: boolean; minW: number }> {
  const id = `key:${apiKey}`;
  let minW = 1;
  const r = await send(stage, info, apiKey, rows, labelAnswer(labelOf, rows), {
    batch,
    queries: () => stage.client(id)?.queries,
    after: () => {
      const w = stage.client(id)?.w ?? Number.NaN;
      if (w < minW) minW = w;
    },
  });
  return { firstFlag: r.firstFlag, rejected: r.rejected, minW };
}

/** The delta that the honest clients' lowest W allows with no false positive (two decimals, rounded down). */
const FP_FREE_DELTA = 0.94;

test('(a) a JBDA-like synthetic attacker on digits-mlp is flagged', async (t) => {
  const { pool } = loadScenarioData('digits-mlp');
  const victim = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
  const rng = createRng(7);
  for (const delta of [0.96, FP_FREE_DELTA]) {
    const firsts: number[] = [];
    for (let attacker = 0; attacker < 5; attacker++) {
      const queries = jbdaQueries(pool.x, rng, 1280);
      const d = rowSize(pool.x);
      const all = tensor(new Float32Array(queries.length * d), [queries.length, d]);
      for (const [i, q] of queries.entries()) all.data.set(q, i * d);
      const labels = (await victim.predict(all)).labels;
      const stage = prada({ delta });
      const { firstFlag } = await stream(stage, victim.info, `jbda-${attacker}`, queries, (_, i) => labels[i] ?? 0);
      assert.ok(firstFlag !== undefined, `JBDA attacker ${attacker} was not flagged in ${queries.length} queries`);
      firsts.push(firstFlag);
    }
    t.diagnostic(`delta ${delta}: JBDA-like attackers flagged 5/5; queries to first flag: ${firsts.join(', ')}`);
  }
});

test('(b) honest clients replaying distinct held-out MNIST rows, and (c) natural-pool attackers', async (t) => {
  const { evaluation, pool } = loadScenarioData('mnist-cnn');
  const rng = createRng(11);
  // A client is flagged at delta exactly when the lowest W of its stream is below delta (the state
  // before a flag does not depend on delta), so one pass with a delta that never fires measures all.
  const lowest = async (source: Labelled, clients: number, prefix: string): Promise<number[]> => {
    const n = source.labels.length;
    const out: number[] = [];
    for (let c = 0; c < clients; c++) {
      const order = rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, 1000);
      const stage = prada({ delta: 1e-9 });
      const rows = order.map((i) => rowAt(source, i));
      await stream(stage, source.info, `${prefix}-${c}`, rows, (_, i) => source.labels[order[i]!]!, 50);
      out.push(stage.client(`key:${prefix}-${c}`)!.minW);
    }
    return out;
  };
  const held = await labelled('mnist-cnn.onnx', evaluation.x);
  assert.ok(held.labels.length >= 1000, 'mnist-cnn has at least 1000 held-out rows');
  const honest = await lowest(held, 100, 'honest');
  const fp = (delta: number): number => honest.filter((w) => w < delta).length;
  t.diagnostic(
    `honest clients (1000 distinct held-out MNIST rows each) flagged: ${fp(0.96)}/100 at delta 0.96, ${fp(FP_FREE_DELTA)}/100 at ${FP_FREE_DELTA}; lowest W ${Math.min(...honest).toFixed(4)}`,
  );
  assert.equal(fp(FP_FREE_DELTA), 0, `no honest client is flagged at delta ${FP_FREE_DELTA}`);

  const natural = await labelled('mnist-cnn.onnx', pool.x);
  const attackers = await lowest(natural, 20, 'pool');
  const missed = (delta: number): number => attackers.filter((w) => !(w < delta)).length;
  t.diagnostic(
    `natural-pool attackers (1000 distinct MNIST pool rows each) missed: ${missed(0.96)}/20 at delta 0.96, ${missed(FP_FREE_DELTA)}/20 at ${FP_FREE_DELTA}`,
  );
});

test('block refuses every request of a flagged client once flagged, and no other client', async () => {
  const { pool } = loadScenarioData('digits-mlp');
  const victim = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
  const stage = defenses.create(
    'prada',
    { action: 'block' },
    { clock: { now: () => 0, sleep: async () => {} }, log: silentLogger },
  ) as ReturnType<typeof prada>;
  const queries = jbdaQueries(pool.x, createRng(3), 300);
  const d = rowSize(pool.x);
  const all = tensor(new Float32Array(queries.length * d), [queries.length, d]);
  for (const [i, q] of queries.entries()) all.data.set(q, i * d);
  const labels = (await victim.predict(all)).labels;
  const r = await stream(stage, victim.info, 'thief', queries, (_, i) => labels[i] ?? 0);
  assert.equal(r.rejected, true);
  assert.equal(stage.client('key:thief')?.flagged, true);
  // Still refused afterwards, whatever it sends; another client is served.
  const again = await stream(stage, victim.info, 'thief', queries.slice(0, 1), () => 0);
  assert.equal(again.rejected, true);
  const other = await stream(stage, victim.info, 'someone', queries.slice(0, 5), (_, i) => labels[i] ?? 0);
  assert.equal(other.rejected, false);
  assert.equal(stage.client('key:someone')?.flagged, false);
});

test('memory bounds: kept samples stop at maxPerClient, clients beyond maxClients are forgotten', async () => {
  const info: ModelInfo = { name: 'm', inputShape: [2], classes: 2, output: 'probs' } as unknown as ModelInfo;
  const stage = prada({ maxPerClient: 5, maxClients: 2 });
  const rng = createRng(5);
  const rows = Array.from({ length: 200 }, () => Float32Array.from([rng.next(), rng.next()]));
  await stream(stage, info, 'a', rows, (_, i) => i % 2);
  const a = stage.client('key:a')!;
  assert.equal(a.kept, 5);
  assert.equal(a.queries, 200);
  assert.equal(a.distances, 198);
  await stream(stage, info, 'b', rows.slice(0, 3), () => 0);
  await stream(stage, info, 'c', rows.slice(0, 3), () => 0);
  assert.equal(stage.client('key:a'), undefined);
  assert.ok(stage.client('key:b') && stage.client('key:c'));
});

test('options are validated', () => {
  for (const bad of [
    { delta: 0 },
    { delta: 1.5 },
    { minSamples: 2 },
    { action: 'warn' },
    { maxPerClient: 0 },
    { other: 1 },
  ])
    assert.throws(
      () => defenses.create('prada', bad, { clock: { now: () => 0, sleep: async () => {} }, log: silentLogger }),
      {
        code: 'HEIST_ERR_BAD_CONFIG',
      },
    );
});
