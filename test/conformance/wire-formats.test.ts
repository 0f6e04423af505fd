/**
 * @file Every registered wire format through the wire-format conformance suite: every OutputKind
 * round-trips between the server half (encodeAnswer) and the client half (decodePredict), leaf ids
 * included; request rows round-trip between encodePredict and decodeRequest; the info body between
 * encodeInfo and decodeInfo.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutputKind, Prediction } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { argmaxRows } from '../../src/core/tensor.js';
import { type RemoteModelInfo, wireFormats } from '../../src/oracle/formats/index.js';

const kinds: readonly OutputKind[] = ['probs', 'logits', 'topk', 'label'];
const n = 5;
const k = 4;

function prediction(kind: OutputKind, seed: number, leaves: boolean): Prediction {
  const rng = createRng(seed);
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += data[i * k + j] = kind === 'logits' ? rng.normal() * 5 : rng.next() + 1e-3;
    if (kind !== 'logits') for (let j = 0; j < k; j++) data[i * k + j] /= sum;
  }
  const scores = { data, shape: [n, k] };
  const ids = leaves ? { leafIds: Array.from({ length: n }, (_, i) => `node-${i * 3}`) } : {};
  return kind === 'label'
    ? { kind, labels: argmaxRows(scores), ...ids }
    : { kind, labels: argmaxRows(scores), scores, ...ids };
}

for (const entry of wireFormats.entries()) {
  const format = entry.create(wireFormats.parseOptions(entry, entry.example ?? {}), undefined);
  if (format.name !== entry.name)
    throw new Error(`wire format entry ${entry.name} builds a format named ${format.name}`);
  for (const kind of kinds.filter((k) => format.capabilities.outputs.includes(k))) {
    test(`wire format ${entry.name}: a '${kind}' answer round-trips from server to client`, () => {
      const info: RemoteModelInfo = {
        name: 'm',
        inputShape: [3],
        classes: k,
        output: kind,
        domain: { min: 0, max: 1 },
      };
      for (const leaves of format.capabilities.leafIds ? [false, true] : [false]) {
        const sent = prediction(kind, kinds.indexOf(kind) + 1, leaves);
        const got = format.decodePredict(JSON.parse(format.encodeAnswer(sent, info)), n, info);
        assert.equal(got.kind, sent.kind);
        assert.deepEqual(Array.from(got.labels), Array.from(sent.labels));
        assert.deepEqual(
          got.scores ? Array.from(got.scores.data) : undefined,
          sent.scores ? Array.from(sent.scores.data) : undefined,
        );
        assert.deepEqual(got.scores?.shape, sent.scores?.shape);
        assert.deepEqual(got.leafIds, sent.leafIds);
      }
    });
  }

  test(`wire format ${entry.name}: request rows and model info round-trip`, () => {
    const info: RemoteModelInfo = {
      name: 'img',
      inputShape: [2, 2, 1],
      classes: 3,
      classNames: ['a', 'b', 'c'],
      output: 'probs',
      domain: { min: -1, max: 1 },
      maxBatch: 64,
    };
    const rng = createRng(8);
    const x = { data: Float32Array.from({ length: 3 * 4 }, () => rng.uniform(-1, 1)), shape: [3, 2, 2, 1] };
    const body = format.encodeInfo(info);
    const described = format.decodeInfo(body === undefined ? undefined : JSON.parse(JSON.stringify(body)));
    if (format.capabilities.info === 'full') assert.deepEqual(described, info);
    else if (format.capabilities.info === 'shape') {
      const { name, inputShape, classes, output } = described;
      assert.deepEqual(
        { name, inputShape, classes, output },
        { name: info.name, inputShape: info.inputShape, classes: info.classes, output: info.output },
      );
    } else
      assert.ok(
        format.capabilities.outputs.includes(described.output),
        'a static description answers in a kind it can carry',
      );
    // The format learns names from the info body (TF Serving's input name, say): encode after decodeInfo, as httpOracle does.
    const rows = format.decodeRequest(JSON.parse(format.encodePredict(x, info)), info);
    assert.deepEqual(rows.shape, x.shape);
    assert.deepEqual(Array.from(rows.data), Array.from(x.data));
  });
}
