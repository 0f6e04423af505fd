/**
 * Decision-tree extraction (Tramèr et al. 2016, §4.2) of the shipped CART tree
 * models/breast-cancer-tree.tree.json (30 features, unique leaf ids): path finding (Algorithm 1)
 * and top-down with incomplete queries, from the file, through the real HTTP gateway and the CLI;
 * then targets whose leaf ids collide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listExtractors } from '../../src/attacks/extract/index.js';
import { subset } from '../../src/core/dataset.js';
import { isHeistError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { modelsDir, repoRoot } from '../../src/datasets/paths.js';
import { loadDataset } from '../../src/datasets/registry.js';
import { stratifiedSplit } from '../../src/datasets/splits.js';
import { randomLinearModel } from '../../src/models/linear.js';
import { loadTreeModel } from '../../src/models/tree.js';
import { localOracle } from '../../src/oracle/local.js';
import { runExtract } from '../../src/runs/extract-run.js';
import { startGateway } from '../../src/runs/serve-run.js';
import { withHashedLeafIds, withoutLeafIds } from '../fixtures/tree-ids.js';

const treeFile = join(modelsDir, 'breast-cancer-tree.tree.json');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'heist-tree-'));
const limits = { 'tree-path-finding': 70, 'tree-top-down': 45 } as const;

/** The test split `heist train --dataset breast-cancer` held out (a quarter of the rows). */
function testSplit() {
  const ds = loadDataset('breast-cancer');
  const n = ds.x.shape[0];
  const split = stratifiedSplit(
    ds.y!,
    { victim: Math.floor(n / 2), pool: Math.floor(n / 4), eval: n - Math.floor(n / 2) - Math.floor(n / 4) },
    0,
  );
  return subset(ds, split.eval);
}

for (const method of ['tree-path-finding', 'tree-top-down'] as const) {
  test(`${method} from the file: 100% agreement (labels and leaf ids) on the test split and 10,000 uniform inputs, < ${limits[method]} queries per leaf`, async (t) => {
    const target = loadTreeModel(treeFile);
    const out = tmp();
    const rec = await runExtract({ method, target: treeFile, out, eval: 'breast-cancer', seed: 0 });
    const perLeaf = rec.queries.used / target.leafCount;
    t.diagnostic(
      `${method}: ${rec.queries.used} queries for ${target.leafCount} leaves = ${perLeaf.toFixed(2)} per leaf; fidelity ${rec.metrics.fidelity}, uniform ${rec.metrics.uniformFidelity}`,
    );
    assert.equal(rec.metrics.leavesFound, target.leafCount, 'every leaf found');
    assert.ok(perLeaf < limits[method], `${perLeaf} queries per leaf`);
    assert.equal(rec.metrics.evalSplitFidelity, 1);
    assert.equal(rec.metrics.uniformFidelity, 1);
    assert.equal(rec.artifacts.substitute, 'extracted.tree.json');
    const extracted = loadTreeModel(join(out, 'extracted.tree.json'));
    const te = testSplit();
    const rng = createRng(5);
    const u = { data: Float32Array.from({ length: 10_000 * 30 }, () => Math.fround(rng.next())), shape: [10_000, 30] };
    for (const x of [te.x, u]) {
      const a = target.predict(x);
      const b = extracted.predict(x);
      assert.deepEqual(b.labels, a.labels);
      assert.deepEqual(b.leafIds, a.leafIds, 'same leaf ids: the leaves themselves were recovered');
    }
  });
}

test('through the real HTTP gateway (leaf ids and null features over heist-v1): same tree, same query count as from the file', async () => {
  const gw = await startGateway({ anonymous: true, models: [treeFile], port: 0 });
  try {
    const url = `${gw.url}/v1/models/breast-cancer-tree`;
    const dir = tmp();
    const rec = await runExtract({
      method: 'tree-top-down',
      target: url,
      out: join(dir, 'http'),
      uniformEval: 2000,
      seed: 0,
    });
    const local = await runExtract({
      method: 'tree-top-down',
      target: treeFile,
      out: join(dir, 'file'),
      uniformEval: 0,
      seed: 0,
    });
    assert.equal(rec.target.url, url);
    assert.equal(rec.metrics.uniformFidelity, 1);
    assert.equal(rec.queries.used, local.queries.used, 'the wire loses nothing');
    assert.deepEqual(
      loadTreeModel(join(dir, 'http', 'extracted.tree.json')).nodes,
      loadTreeModel(join(dir, 'file', 'extracted.tree.json')).nodes,
    );
  } finally {
    await gw.close();
  }
});

test('colliding leaf ids (label only; ids hashed into 4 buckets): extraction completes, says it is approximate, and loses agreement', async (t) => {
  const tree = loadTreeModel(treeFile);
  for (const [label, target] of [
    ['label only', withoutLeafIds(tree)],
    ['4 hashed buckets', withHashedLeafIds(tree, 4)],
  ] as const) {
    for (const method of ['tree-path-finding', 'tree-top-down'] as const) {
      const rec = await runExtract(
        { method, target: label, out: tmp(), eval: 'breast-cancer', seed: 0 },
        { oracle: localOracle(target) },
      );
      t.diagnostic(
        `${label}, ${method}: ${rec.queries.used} queries; agreement ${rec.metrics.evalSplitFidelity?.toFixed(4)} (data set), ${rec.metrics.uniformFidelity?.toFixed(4)} (uniform)`,
      );
      assert.ok(rec.metrics.uniformFidelity! >= 0 && rec.metrics.uniformFidelity! <= 1);
      if (label === 'label only') {
        assert.ok(rec.metrics.uniformFidelity! < 1, 'labels as ids cannot tell leaves of one class apart');
        assert.equal(rec.metrics.leafIds, 0);
        assert.ok((rec.notes ?? []).some((n) => /approximate/.test(n)));
      }
    }
  }
});

test('top-down needs incomplete queries: a model that refuses missing features is a requirements error', async () => {
  const model = randomLinearModel(createRng(1), 30, 2);
  await assert.rejects(
    runExtract(
      { method: 'tree-top-down', target: 'linear', out: tmp(), uniformEval: 0 },
      { oracle: localOracle(model) },
    ),
    (e) => isHeistError(e, 'HEIST_ERR_REQUIREMENTS'),
  );
});

test('CLI: heist train --arch tree, heist extract --method tree-path-finding on the file', () => {
  const heist = (...args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot, 'bin/heist.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
  const dir = tmp();
  const file = join(dir, 'bc.tree.json');
  const train = heist('train', '--dataset', 'breast-cancer', '--arch', 'tree', '--out', file);
  assert.equal(train.status, 0, train.stderr);
  assert.match(train.stdout, /breast-cancer-tree \(tree\): test accuracy/);
  assert.deepEqual(
    loadTreeModel(file).nodes,
    loadTreeModel(treeFile).nodes,
    'the shipped tree rebuilds identically (seed 0)',
  );
  assert.deepEqual(
    listExtractors()
      .filter((m) => m.name.startsWith('tree-'))
      .map((m) => m.name),
    ['tree-path-finding', 'tree-top-down'],
  );
  const run = heist(
    'extract',
    '--method',
    'tree-path-finding',
    '--target',
    file,
    '--out',
    join(dir, 'x'),
    '--uniform-eval',
    '1000',
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /uniform 1\.0000/);
  assert.ok(existsSync(join(dir, 'x', 'extracted.tree.json')));
});
