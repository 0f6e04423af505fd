/**
 * @file The high-confidence stage on its own: values strictly below the cutoff are withheld (ART's
 * rule), the rest renormalised (Heist's), a row with nothing left is served one-hot at its label,
 * labels are never changed, and the cutoff must lie in [0, 1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import { labelPrediction } from '../../src/core/prediction.js';
import { highConfidence, highConfidenceRows } from '../../src/defenses/high-confidence.js';
import { defenses } from '../../src/defenses/index.js';
import { near, scoresRow, serveRows, testDeps } from './serve.js';

test('values below the cutoff are zeroed, a value equal to it is kept, the rest renormalised', async () => {
  const out = await serveRows(highConfidence({ cutoff: 0.25 }), [
    [0.2, 0.5, 0.3],
    [0.25, 0.5, 0.25],
  ]);
  assert.ok(near(scoresRow(out, 0), [0, 0.5 / 0.8, 0.3 / 0.8], 1e-6), String(scoresRow(out, 0)));
  assert.ok(near(scoresRow(out, 1), [0.25, 0.5, 0.25], 1e-6), 'equal to the cutoff: kept');
  assert.deepEqual(Array.from(out.labels), [1, 1]);
  // cutoff 0 withholds nothing.
  const none = await serveRows(highConfidence({ cutoff: 0 }), [[0.1, 0.6, 0.3]]);
  assert.ok(near(scoresRow(none, 0), [0.1, 0.6, 0.3], 1e-6));
});

test('a row with every value below the cutoff is served one-hot at its label (ART would serve all zeros)', async () => {
  const out = await serveRows(highConfidence({ cutoff: 0.5 }), [
    [0.3, 0.3, 0.2, 0.2],
    [0.1, 0.6, 0.2, 0.1],
  ]);
  assert.deepEqual(scoresRow(out, 0), [1, 0, 0, 0]);
  assert.deepEqual(scoresRow(out, 1), [0, 1, 0, 0]);
  assert.equal(out.kind, 'probs', 'one kind per batch: the one-hot row stays a probability vector');
  // On a tie the model's own label wins, and it is never changed.
  const tie = await serveRows(highConfidence({ cutoff: 0.5 }), [[0.3, 0.3, 0.2, 0.2]], { labels: [1] });
  assert.deepEqual(scoresRow(tie, 0), [0, 1, 0, 0]);
  assert.deepEqual(Array.from(tie.labels), [1]);
  // The labelled class is kept even below the cutoff when others survive (a label from an earlier stage).
  assert.deepEqual(Array.from(highConfidenceRows(Float32Array.from([0.6, 0.4]), 2, 0.5, [1])), [
    Math.fround(0.6),
    Math.fround(0.4),
  ]);
  assert.equal(defenses.get('high-confidence').changesLabels, false);
});

test('label-only answers pass through; the cutoff must be in [0, 1)', async () => {
  const stage = highConfidence({ cutoff: 0.3 });
  const labels = labelPrediction(Int32Array.from([2]));
  assert.equal(await stage.transform!({} as never, labels), labels);
  assert.deepEqual(stage.requires, { scores: true });
  for (const cutoff of [-0.1, 1, 1.5, Number.NaN]) {
    assert.throws(
      () => highConfidence({ cutoff }),
      (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
    );
    assert.throws(
      () => defenses.create('high-confidence', { cutoff }, testDeps),
      (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
    );
  }
  assert.throws(
    () => defenses.create('high-confidence', {}, testDeps),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});
