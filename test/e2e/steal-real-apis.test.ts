/**
 * @file Steals through the registry's wire formats, against servers written from the public
 * protocol descriptions (test/fixtures/protocol-servers.ts): TF Serving REST (row and columnar
 * :predict, and :classify) and KServe v2 (FP32 and FP64 inputs), each serving the digits-mlp victim.
 * Every row the server answered is one Heist paid for.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type OnnxPredictor, loadOnnxModel } from '../../src/backends/onnx-model.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { type ProtocolServer, startKserveV2, startTfServing } from '../fixtures/protocol-servers.js';

let victim: OnnxPredictor;
const dir = mkdtempSync(join(tmpdir(), 'heist-apis-'));
before(async () => {
  victim = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
});
after(async () => {
  await victim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function stealThrough(
  server: ProtocolServer,
  target: string,
  format: string,
  formatOptions: Record<string, unknown>,
  out: string,
) {
  try {
    const record = await runSteal({
      target,
      format,
      formatOptions,
      budget: 250,
      pool: 'digits-mlp',
      checkpoints: [250],
      out: join(dir, out),
    });
    assert.equal(
      server.stats.rowsAnswered,
      record.queries.used + record.queries.eval,
      "the server's count equals Heist's paid count",
    );
    assert.equal(record.queries.used, 250);
    process.stderr.write(
      `${format} ${JSON.stringify(formatOptions)}: fidelity ${record.metrics.fidelity} at 250 queries\n`,
    );
    return record;
  } finally {
    await server.close();
  }
}

for (const request of ['instances', 'inputs'] as const) {
  test(`TF Serving :predict with "${request}": fidelity as over heist-v1`, async () => {
    const s = await startTfServing('digits', victim);
    const r = await stealThrough(s, `${s.base}/v1/models/digits`, 'tf-serving', { request }, `tf-${request}`);
    assert.ok(r.metrics.fidelity! >= 0.9, `fidelity ${r.metrics.fidelity}`);
    assert.equal(r.target.model, 'digits');
    assert.deepEqual(r.target.inputShape, [64]);
  });
}

test('TF Serving :classify ([class, score] pairs): fidelity as over heist-v1', async () => {
  const s = await startTfServing('digits', victim);
  const r = await stealThrough(s, `${s.base}/v1/models/digits`, 'tf-serving', { method: 'classify' }, 'tf-classify');
  assert.ok(r.metrics.fidelity! >= 0.9, `fidelity ${r.metrics.fidelity}`);
});

for (const datatype of ['FP32', 'FP64'] as const) {
  test(`KServe v2 with ${datatype} inputs: fidelity as over heist-v1`, async () => {
    const s = await startKserveV2('digits', victim);
    const r = await stealThrough(s, `${s.base}/v2/models/digits`, 'kserve-v2', { datatype }, `kserve-${datatype}`);
    assert.ok(r.metrics.fidelity! >= 0.9, `fidelity ${r.metrics.fidelity}`);
  });
}
