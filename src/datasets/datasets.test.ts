import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIdx } from './idx.js';
import { parseCsv } from './csv.js';
import { loadDataset } from './registry.js';
import {
  computeSplit,
  loadScenarioData,
  partDatasets,
  parts,
  readSplit,
  scenarios,
  victimModelPath,
} from './scenarios.js';
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
    const from = partDatasets(s);
    const whole = s.wholeParts ?? {};
    for (const p of parts) {
      const expected = p !== 'victim' && whole[p] ? loadDataset(whole[p]).x.shape[0] : s.sizes[p];
      assert.equal(fresh[p].length, expected, `${p} size`);
    }
    // Parts that index the same data set never share a row.
    const seen = new Map<string, Set<number>>();
    for (const p of parts) {
      const rows = seen.get(from[p]) ?? new Set<number>();
      for (const i of fresh[p]) {
        assert.ok(!rows.has(i), `${p} row ${i} of ${from[p]} is in another part`);
        rows.add(i);
      }
      seen.set(from[p], rows);
    }
    for (const p of parts) {
      const ds = loadDataset(from[p]);
      const y = ds.y!;
      for (let c = 0; c < ds.classes; c++) {
        const share = fresh[p].filter((i) => y[i] === c).length / fresh[p].length;
        const overall = y.filter((v) => v === c).length / y.length;
        assert.ok(Math.abs(share - overall) < 0.02, `${p}: class ${c} share ${share} vs ${overall}`);
      }
    }
  });
}

test('fashion-mnist: 10,000 test and 60,000 training images, named classes, scaled to [0, 1]', () => {
  const test10k = loadDataset('fashion-mnist');
  assert.deepEqual(test10k.x.shape, [10000, 28, 28, 1]);
  assert.equal(test10k.classNames?.[9], 'Ankle boot');
  const train = loadDataset('fashion-mnist-train');
  assert.deepEqual(train.x.shape, [60000, 28, 28, 1]);
  assert.equal(Math.max(...train.x.data.subarray(0, 784 * 100)), 1);
});

test('mnist-cnn-xpool: mnist-cnn victim rows and evaluation, a Fashion-MNIST pool, the same victim file', () => {
  const own = loadScenarioData('mnist-cnn');
  const x = loadScenarioData('mnist-cnn-xpool');
  assert.deepEqual(x.victimTrain.y, own.victimTrain.y);
  assert.deepEqual(x.evaluation.x.data, own.evaluation.x.data);
  assert.equal(x.pool.x.shape[0], 10000);
  assert.deepEqual(x.pool.y, loadDataset('fashion-mnist').y);
  assert.equal(victimModelPath(x.scenario), victimModelPath(own.scenario));
});

test('scenario data sets are the split rows', () => {
  const d = loadScenarioData('digits-mlp');
  assert.equal(d.pool.x.shape[0], 449);
  assert.equal(d.evaluation.y!.length, 450);
});
