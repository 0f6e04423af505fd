/** @file serializePredictResponse writes exactly JSON.stringify(encodePredictResponse(...)). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Prediction } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { encodePredictResponse, serializePredictResponse } from '../../src/oracle/formats/heist-v1/index.js';

const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1, 3e38, 1e-30, 1 / 3];

test('serializePredictResponse matches JSON.stringify of encodePredictResponse', () => {
  const rng = createRng(7);
  for (let t = 0; t < 400; t++) {
    const n = 1 + (t % 5);
    const k = 2 + (t % 4);
    const data = Float32Array.from({ length: n * k }, (_, i) =>
      i % 7 === 3 ? SPECIAL[t % SPECIAL.length] : (rng.next() - 0.3) * 10,
    );
    const labels = Int32Array.from({ length: n }, (_, i) => i % k);
    const kind = (['probs', 'logits', 'label', 'topk'] as const)[t % 4];
    const base = kind === 'label' ? { kind, labels } : { kind, labels, scores: { data, shape: [n, k] } };
    const p: Prediction =
      t % 3 === 0 ? { ...base, leafIds: labels.length > 0 ? Array.from(labels, (l) => `node-"${l}"`) : [] } : base;
    const name = t % 2 === 0 ? 'mnist-cnn' : 'odd"name\\';
    assert.equal(serializePredictResponse(name, p), JSON.stringify(encodePredictResponse(name, p)));
  }
});
