/**
 * @file Detector verdicts through a real gateway (deployment file, API keys, SQLite audit log):
 * PRADA configured to `degrade` serves a flagged key label-only answers while another key keeps
 * its probabilities, and configured to `block` refuses the flagged key with 403; each verdict is in
 * the audit record (`prada:degraded`, `prada:blocked`) and in `heist_detector_flags_total` by
 * verdict. Also: a degrade stage that can change labels is refused at start-up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRng } from '../../src/core/rng.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { createKey } from '../../src/runs/keys-run.js';
import { startGateway } from '../../src/runs/serve-run.js';
import { jbdaQueries } from '../defenses/streams.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-verdicts-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = loadScenarioData('digits-mlp');
const d = data.evaluation.x.shape[1]!;

function config(name: string, action: string, extra = ''): { file: string; keys: string } {
  const keys = join(dir, `${name}-keys.json`);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `version: heist.gateway/v1
models:
  - file: ${join(modelsDir, 'digits-mlp.onnx')}
    defenses:
      - name: prada
        options: { delta: 0.94, action: ${action}${extra} }
access:
  keyFile: ${keys}
  tiers: { free: {} }
audit:
  url: sqlite://${join(dir, `${name}.db`)}
server:
  metrics: public
`,
  );
  return { file, keys };
}

async function predict(url: string, key: string, rows: readonly Float32Array[]) {
  const res = await fetch(`${url}/v1/models/digits-mlp/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ inputs: rows.map((r) => Array.from(r)) }),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      predictions?: { label: number; probabilities?: number[] }[];
      error?: { code: string };
    },
  };
}

function metric(text: string, verdict: string): number {
  const m = text.match(
    new RegExp(`^heist_detector_flags_total\\{detector="prada",verdict="${verdict}"\\} (\\d+)`, 'm'),
  );
  return m ? Number(m[1]) : 0;
}

for (const action of ['degrade', 'block'] as const) {
  test(`prada action ${action}: the flagged key is ${action === 'degrade' ? 'served labels only' : 'refused'}; audit and metrics record it`, async () => {
    const { file, keys } = config(action, action);
    const attacker = createKey({ file: keys, tier: 'free' });
    const honest = createKey({ file: keys, tier: 'free' });
    const gw = await startGateway({ config: file, port: 0 });
    try {
      const queries = jbdaQueries(data.pool.x, createRng(1), 300);
      let verdictAt = -1;
      for (let i = 0; i < queries.length; i += 10) {
        const r = await predict(gw.url, attacker.key, queries.slice(i, i + 10));
        const degraded = r.status === 200 && r.body.predictions![0].probabilities === undefined;
        if (r.status === 403 || degraded) {
          verdictAt = i;
          if (action === 'block') {
            assert.equal(r.body.error?.code, 'HEIST_ERR_FORBIDDEN');
          }
        } else assert.equal(r.status, 200);
        if (verdictAt >= 0 && i > verdictAt) {
          // sticky: every later request gets the verdict too
          if (action === 'block') assert.equal(r.status, 403);
          else assert.equal(r.body.predictions![0].probabilities, undefined);
        }
      }
      assert.ok(verdictAt >= 0, 'the JBDA-like key got the verdict');
      const other = await predict(gw.url, honest.key, [data.evaluation.x.data.slice(0, d)]);
      assert.equal(other.status, 200);
      assert.ok(other.body.predictions![0].probabilities, 'another key still gets probabilities');

      const records = await gw.auditStore!.query({ clientId: `key:${attacker.record.id}` });
      const reason = action === 'degrade' ? 'prada:degraded' : 'prada:blocked';
      const flagged = records.filter((r) => r.flags.includes(reason));
      assert.ok(flagged.length > 0, `the audit log records ${reason}`);
      if (action === 'block') assert.ok(flagged.every((r) => r.status === 403 && r.outcome === 'HEIST_ERR_FORBIDDEN'));
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      assert.equal(metric(text, action === 'degrade' ? 'degraded' : 'blocked'), flagged.length);
    } finally {
      await gw.close();
    }
  });
}

test('a degrade stage that may change labels is refused at start-up', async () => {
  const { file } = config('bad', 'degrade', ', degradeTo: { name: reverse-sigmoid, options: { beta: 1, gamma: 0.1 } }');
  await assert.rejects(
    startGateway({ config: file, port: 0 }),
    /degradeTo "reverse-sigmoid" must be a transform-only stage that keeps top-1 labels/,
  );
});
