/**
 * A decision tree behind the gateway: each prediction carries "leaf" (the answering node's id),
 * null inputs are missing features (the walk stops at the first node testing one: BigML style),
 * and other models keep their exact answers (no "leaf", null refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { modelsDir } from '../../src/datasets/paths.js';
import { buildGateway } from '../../src/gateway/server.js';
import { loadTreeModel } from '../../src/models/tree.js';
import { assertError, model, post, rows } from './helpers.js';

const tree = loadTreeModel(join(modelsDir, 'breast-cancer-tree.tree.json'));

test('tree answers carry the leaf id; null features stop at the first node that tests them', async () => {
  const app = buildGateway({
    models: [
      { name: 'tree', predictor: tree },
      { name: 'lin', predictor: model() },
    ],
  });
  try {
    const x = Array.from({ length: 30 }, (_, j) => (j % 7) / 7);
    const res = await post(app, 'tree', { inputs: [x, Array(30).fill(null)] });
    assert.equal(res.statusCode, 200, res.body);
    const body = JSON.parse(res.body) as { predictions: { label: number; probabilities: number[]; leaf: string }[] };
    assert.equal(body.predictions[0].leaf, tree.leafId(x));
    assert.equal(
      tree.nodes.find((n) => n.id === body.predictions[0].leaf)!.feature,
      undefined,
      'a complete row ends at a leaf',
    );
    assert.equal(body.predictions[1].leaf, tree.nodes[0].id, 'all missing: the root answers');
    const root = tree.nodes[0];
    assert.equal(body.predictions[1].label, root.counts.indexOf(Math.max(...root.counts)), "the root's majority label");
    // Root feature present, the rest missing: stops at the root's child.
    const partial = Array(30).fill(null);
    partial[root.feature!] = 0;
    const child = JSON.parse((await post(app, 'tree', { inputs: [partial] })).body) as {
      predictions: { leaf: string }[];
    };
    assert.equal(child.predictions[0].leaf, tree.nodes[root.left!].id);
    const info = JSON.parse((await app.inject({ method: 'GET', url: '/v1/models/tree' })).body) as {
      missingValues?: string;
    };
    assert.equal(info.missingValues, 'stop-at-node');

    const lin = await post(app, 'lin', { inputs: rows(1) });
    assert.equal(lin.statusCode, 200);
    assert.deepEqual(Object.keys((JSON.parse(lin.body) as { predictions: object[] }).predictions[0]).sort(), [
      'label',
      'probabilities',
    ]);
    const linInfo = JSON.parse((await app.inject({ method: 'GET', url: '/v1/models/lin' })).body) as Record<
      string,
      unknown
    >;
    assert.equal('missingValues' in linInfo, false);
    assertError(
      await post(app, 'lin', { inputs: [[null, 0, 0, 0, 0, 0]] }),
      400,
      'HEIST_ERR_NOT_FINITE',
      'null for a model without missing values',
    );
    assertError(
      await post(app, 'tree', { inputs: [Array(30).fill('x')] }),
      400,
      'HEIST_ERR_NOT_FINITE',
      'strings are still refused',
    );
  } finally {
    await app.close();
  }
});
