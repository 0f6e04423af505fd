/**
 * @file `heist audit replay`: a detector run offline over a real gateway's audit log reaches the
 * verdicts the same detector reached live. A gateway serving digits-mlp with PRADA (flag) and a
 * SQLite audit log takes a JBDA-like attacker's and an honest client's traffic under two API keys;
 * replaying PRADA over the log flags the same clients, at the same request, as the live stage did
 * (whose flags the log recorded as `prada:suspected-extraction`), and replaying with other options
 * (a stricter delta) answers the what-if question without touching the log.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRng } from '../../src/core/rng.js';
import { modelsDir, repoRoot } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { replayAuditRun } from '../../src/runs/audit-replay-run.js';
import { createKey } from '../../src/runs/keys-run.js';
import { startGateway } from '../../src/runs/serve-run.js';
import { openAuditStore } from '../../src/store/index.js';
import { jbdaQueries } from '../defenses/streams.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-replay-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function send(url: string, key: string, rows: readonly Float32Array[], batch = 10): Promise<void> {
  for (let i = 0; i < rows.length; i += batch) {
    const res = await fetch(`${url}/v1/models/digits-mlp/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ inputs: rows.slice(i, i + batch).map((r) => Array.from(r)) }),
    });
    assert.equal(res.status, 200, await res.text());
  }
}

test('PRADA replayed over the audit log flags the clients the live stage flagged, at the same request', async () => {
  const keys = join(dir, 'keys.json');
  const attacker = createKey({ file: keys, tier: 'free' });
  const honest = createKey({ file: keys, tier: 'free' });
  const audit = `sqlite://${join(dir, 'audit.db')}`;
  const gw = await startGateway({
    keys,
    models: [join(modelsDir, 'digits-mlp.onnx')],
    audit,
    defenses: [{ name: 'prada', options: { delta: 0.94 } }],
    port: 0,
  });
  const data = loadScenarioData('digits-mlp');
  const d = data.evaluation.x.shape[1]!;
  try {
    await send(gw.url, attacker.key, jbdaQueries(data.pool.x, createRng(1), 300));
    const honestRows = Array.from({ length: 300 }, (_, i) => data.evaluation.x.data.slice(i * d, (i + 1) * d));
    await send(gw.url, honest.key, honestRows);
  } finally {
    await gw.close();
  }

  // What the live stage decided, as the log recorded it.
  const store = await openAuditStore(audit, { createIfMissing: false });
  const live = new Map<string, number>();
  const rowsSoFar = new Map<string, number>();
  for (const r of await store.query()) {
    const n = (rowsSoFar.get(r.clientId) ?? 0) + r.rows.length;
    rowsSoFar.set(r.clientId, n);
    if (r.flags.includes('prada:suspected-extraction') && !live.has(r.clientId)) live.set(r.clientId, n);
  }
  await store.close();
  const attackerId = `key:${attacker.record.id}`;
  assert.ok(live.has(attackerId), 'the live stage flagged the attacker');

  const replay = await replayAuditRun({ audit, detector: 'prada', options: { delta: 0.94 } });
  assert.equal(replay.rows, 600);
  assert.equal(replay.clients.length, 2);
  for (const c of replay.clients) {
    assert.equal(c.firstVerdict?.afterRows, live.get(c.client), `${c.client}: offline and live verdicts agree`);
    if (c.firstVerdict) assert.equal(c.firstVerdict.reason, 'suspected-extraction');
  }

  // The CLI, with a what-if setting: minSamples 1000 (more rows than either client sent) flags nobody.
  const cli = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'bin/heist.js'),
      'audit',
      'replay',
      '--audit',
      audit,
      '--detector',
      'prada',
      '--options',
      '{"delta":0.94,"minSamples":1000}',
      '--json',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(cli.status, 0, cli.stderr);
  const report = JSON.parse(cli.stdout) as { clients: { firstVerdict?: unknown }[] };
  assert.equal(report.clients.filter((c) => c.firstVerdict).length, 0);

  const bad = spawnSync(
    process.execPath,
    [join(repoRoot, 'bin/heist.js'), 'audit', 'replay', '--audit', audit, '--detector', 'round'],
    { encoding: 'utf8' },
  );
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown detector "round"/);
});
