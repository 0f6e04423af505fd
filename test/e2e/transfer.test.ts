/**
 * @file `heist transfer` as a user runs it: steal digits-mlp (its pool, 449 queries), then craft
 * FGSM, PGD and same-norm noise on the stolen substitute.onnx and try them on the victim. The
 * substitute's examples change the victim's label far more often than noise of the same L∞ norm;
 * no more than the announced queries are bought, each of them in the transcript; a model file
 * Heist did not export as a network is refused with HEIST_ERR_BAD_MODEL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readNetworkOnnx } from '../../src/backends/onnx-network.js';
import { networkToOnnx } from '../../src/backends/onnx-writer.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { specWeights } from '../../src/models/network-spec.js';
import type { TransferResult } from '../../src/runs/transfer-run.js';
import { mixedSpec } from '../helpers/net-reference.js';
import { heist } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-transfer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a network Heist exported reads back with the same layers and weights', () => {
  const back = readNetworkOnnx(networkToOnnx(mixedSpec, { name: 'm', domain: { min: 0, max: 1 } }));
  assert.deepEqual(back.inputShape, mixedSpec.inputShape);
  assert.equal(back.classes, mixedSpec.classes);
  assert.deepEqual(
    back.layers.map((l) => l.type),
    mixedSpec.layers.map((l) => l.type),
  );
  assert.deepEqual(specWeights(back.layers), specWeights(mixedSpec.layers));
});

test('examples crafted on the stolen substitute transfer to the victim, far above same-norm noise', () => {
  const victim = join(modelsDir, 'digits-mlp.onnx');
  const steal = heist(
    'steal',
    '--target',
    victim,
    '--pool',
    'digits-mlp',
    '--budget',
    '449',
    '--out',
    join(dir, 's'),
    '--yes',
  );
  assert.equal(steal.code, 0, steal.err);
  const out = join(dir, 't');
  const r = heist(
    'transfer',
    '--substitute',
    join(dir, 's'),
    '--target',
    victim,
    '--rows',
    '200',
    '--epsilons',
    '0.2,0.3',
    '--out',
    out,
    '--yes',
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /200 rows of digits-mlp/);
  const t = JSON.parse(readFileSync(join(out, 'transfer.json'), 'utf8')) as TransferResult;
  assert.equal(t.queries, 200 * (1 + 3 * 2));
  const rate = (m: string, e: number) => t.results.find((x) => x.method === m && x.epsilon === e)!.successRate;
  for (const e of [0.2, 0.3]) {
    assert.ok(rate('fgsm', e) > rate('noise', e) + 0.2, `fgsm ${rate('fgsm', e)} vs noise ${rate('noise', e)} at ${e}`);
    assert.ok(rate('pgd', e) > rate('noise', e) + 0.2, `pgd ${rate('pgd', e)} vs noise ${rate('noise', e)} at ${e}`);
  }
  assert.ok(rate('fgsm', 0.3) > 0.5, `fgsm at 0.3: ${rate('fgsm', 0.3)}`);
  // One line per paid row after the header; a row asked twice (noise clipped to the same values) is
  // answered from the cache, so at most the announced number.
  const paid = readFileSync(join(out, 'transcript.jsonl'), 'utf8').trim().split('\n').length - 1;
  assert.ok(paid <= t.queries && paid > 0.9 * t.queries, `${paid} rows in the transcript for ${t.queries} announced`);

  const foreign = heist(
    'transfer',
    '--substitute',
    victim,
    '--target',
    victim,
    '--eval',
    'digits-mlp',
    '--out',
    join(dir, 'f'),
    '--yes',
  );
  assert.notEqual(foreign.code, 0);
  assert.match(foreign.err, /HEIST_ERR_BAD_MODEL/);
  assert.match(foreign.err, /not a network Heist exported/);
});
