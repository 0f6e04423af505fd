import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { loadDataset } from '../datasets/registry.js';
import { TREE_FORMAT, type TreeJson, loadTreeModel, saveTreeModel, treeModel } from './tree.js';
import { trainCart } from './tree-train.js';

const doc: TreeJson = {
  format: TREE_FORMAT,
  name: 'toy',
  inputShape: [2],
  classes: 2,
  domain: { min: 0, max: 1 },
  output: 'probs',
  missing: 'stop-at-node',
  nodes: [
    { id: 'root', counts: [3, 1], feature: 0, threshold: 0.5, left: 1, right: 2 },
    { id: 'L', counts: [3, 0] },
    { id: 'R', counts: [1, 4], feature: 1, threshold: 0.25, left: 3, right: 4 },
    { id: 'RL', counts: [1, 0] },
    { id: 'RR', counts: [0, 4] },
  ],
};

test('a tree walks x[f] <= t left; NaN stops at the node testing it; answers carry node ids', () => {
  const t = treeModel(doc);
  const p = t.predict({ data: Float32Array.from([0.5, 0, 0.75, 0.25, 0.75, 0.3, NaN, 0, 0.9, NaN]), shape: [5, 2] });
  assert.deepEqual(p.leafIds, ['L', 'RL', 'RR', 'root', 'R']);
  assert.deepEqual(Array.from(p.labels), [0, 0, 1, 0, 1]);
  assert.deepEqual(Array.from(p.scores!.data.subarray(0, 2)), [1, 0]);
  assert.equal(t.leafCount, 3);
  assert.equal(t.depth, 2);
  assert.equal(t.leafId([0.9, 0.9]), 'RR');
});

test('heist.tree/v1: save and load round-trip; malformed trees are HEIST_ERR_BAD_MODEL', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'heist-tree-')), 'toy.tree.json');
  saveTreeModel(file, treeModel(doc));
  assert.deepEqual(loadTreeModel(file).toJSON(), doc);
  const broken = (nodes: TreeJson['nodes']) => () => treeModel({ ...doc, nodes });
  assert.throws(
    broken([{ ...doc.nodes[0], left: 0 }, ...doc.nodes.slice(1)]),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
    'a cycle',
  );
  assert.throws(
    broken([{ ...doc.nodes[0], feature: 2 }, ...doc.nodes.slice(1)]),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
    'feature out of range',
  );
  assert.throws(
    broken([doc.nodes[0], { ...doc.nodes[1], id: 'root' }, ...doc.nodes.slice(2)]),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
    'duplicate id',
  );
});

test('CART: same seed, same tree; fits its training data; respects maxDepth and minSamplesLeaf', () => {
  const ds = loadDataset('breast-cancer');
  const a = trainCart(ds, { rng: createRng(1) });
  const b = trainCart(ds, { rng: createRng(1) });
  assert.deepEqual(a.toJSON(), b.toJSON());
  const pred = a.predict(ds.x).labels;
  let right = 0;
  for (let i = 0; i < pred.length; i++) right += pred[i] === ds.y![i] ? 1 : 0;
  assert.ok(right / pred.length > 0.99, `training accuracy ${right / pred.length}`);
  const small = trainCart(ds, { rng: createRng(1), maxDepth: 3, minSamplesLeaf: 10 });
  assert.ok(small.depth <= 3);
  const counts = small.nodes.filter((n) => n.feature === undefined).map((n) => n.counts.reduce((s, c) => s + c, 0));
  assert.ok(Math.min(...counts) >= 10);
  assert.equal(new Set(a.nodes.map((n) => n.id)).size, a.nodes.length, 'unique node ids');
});
