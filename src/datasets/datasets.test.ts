import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIdx } from './idx.js';
import { parseCsv } from './csv.js';
import { loadDataset } from './registry.js';
import { computeSplit, readSplit, scenarios, loadScenarioData } from './scenarios.js';
import { isHeistError } from '../core/errors.js';

test('mnist loads 10,000 images scaled to [0, 1] with all ten classes', () => {
  const ds = loadDataset('mnist');
  assert.deepEqual(ds.x.shape, [10000, 28, 28, 1]);
  assert.equal(ds.y!.length, 10000);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of ds.x.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.equal(lo, 0);
  assert.equal(hi, 1);
  assert.equal(new Set(ds.y).size, 10);
});

test('digits and breast-cancer load with the documented shapes', () => {
  const digits = loadDataset('digits');
  assert.deepEqual(digits.x.shape, [1797, 64]);
  assert.ok(Math.max(...digits.x.data) <= 1);
  const bc = loadDataset('breast-cancer');
  assert.deepEqual(bc.x.shape, [569, 30]);
  assert.deepEqual(bc.classNames, ['malignant', 'benign']);
  assert.equal(bc.y!.filter((c) => c === 0).length, 212);
});

test('IDX and CSV readers reject malformed input with HEIST_ERR_BAD_DATA', () => {
  assert.throws(
    () => parseIdx(new Uint8Array([1, 2, 3, 4])),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_DATA'),
  );
  assert.throws(
    () => parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 5, 1, 2])),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_DATA'),
  );
  assert.throws(
    () => parseCsv('1,2,0\n1,x,1\n', { header: false }),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_DATA'),
  );
  assert.throws(
    () => loadDataset('imagenet'),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  const ok = parseIdx(new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 1, 7, 9]));
  assert.deepEqual(ok.shape, [2, 1]);
  assert.deepEqual([...ok.data], [7, 9]);
});

for (const s of Object.values(scenarios)) {
  test(`${s.name}: committed split equals a fresh build, is disjoint and stratified`, () => {
    const fresh = computeSplit(s);
    const committed = readSplit(s.name);
    assert.deepEqual(committed, fresh);
    assert.equal(fresh.victim.length, s.sizes.victim);
    assert.equal(fresh.pool.length, s.sizes.pool);
    assert.equal(fresh.eval.length, s.sizes.eval);
    const all = new Set([...fresh.victim, ...fresh.pool, ...fresh.eval]);
    assert.equal(all.size, s.sizes.victim + s.sizes.pool + s.sizes.eval, 'parts overlap');
    const y = loadDataset(s.dataset).y!;
    const classes = loadDataset(s.dataset).classes;
    for (const part of [fresh.victim, fresh.pool, fresh.eval]) {
      for (let c = 0; c < classes; c++) {
        const share = part.filter((i) => y[i] === c).length / part.length;
        const overall = y.filter((v) => v === c).length / y.length;
        assert.ok(Math.abs(share - overall) < 0.02, `class ${c} share ${share} vs ${overall}`);
      }
    }
  });
}

test('scenario data sets are the split rows', () => {
  const d = loadScenarioData('digits-mlp');
  assert.equal(d.pool.x.shape[0], 449);
  assert.equal(d.evaluation.y!.length, 450);
});
