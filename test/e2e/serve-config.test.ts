/**
 * `heist serve --config`, `heist keys` and `heist profile` as a user runs them: keys are issued by
 * the CLI and shown once, the file keeps digests only, a deployment file with keys and tiers
 * serves keyed clients and refuses the rest, a revocation reaches the running gateway through the
 * watched key file, a bad file is refused naming the bad key, and the profile says what is exposed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelsDir, repoRoot } from '../../src/datasets/paths.js';
import { startGateway } from '../../src/runs/serve-run.js';

function heist(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/heist.js'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const deployment = (extra = '') => `version: heist.gateway/v1
models:
  - file: ${join(modelsDir, 'digits-mlp.onnx')}
    defenses:
      - name: round
        options: { decimals: 2 }
access:
  keyFile: keys.json
  tiers:
    free:
      perKey:
        requests: { minute: 1000 }
audit:
  url: sqlite://audit.db
${extra}`;

test('heist keys create / list / revoke: the key is shown once, the file keeps only its digest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-keys-'));
  try {
    const keys = join(dir, 'keys.json');
    const created = heist('keys', 'create', '--keys', keys, '--tier', 'free', '--label', 'acme', '--json');
    assert.equal(created.code, 0, created.err);
    const { key, id } = JSON.parse(created.out) as { key: string; id: string };
    assert.match(key, /^hk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const file = readFileSync(keys, 'utf8');
    assert.ok(!file.includes(key.slice(16)), 'the secret is not in the key file');
    const listed = heist('keys', 'list', '--keys', keys);
    assert.match(listed.out, new RegExp(`${id}\\s+free\\s+active`));
    assert.ok(!listed.out.includes(key.slice(16)));
    assert.equal(heist('keys', 'revoke', id, '--keys', keys).code, 0);
    assert.match(heist('keys', 'list', '--keys', keys).out, new RegExp(`${id}\\s+free\\s+revoked`));
    const bad = heist('keys', 'revoke', '000000000000', '--keys', keys);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /HEIST_ERR_BAD_CONFIG/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --config: keyed clients are served, others refused; a CLI revocation reaches the running gateway', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-deploy-'));
  const config = join(dir, 'gateway.yaml');
  writeFileSync(config, deployment());
  const created = heist('keys', 'create', '--keys', join(dir, 'keys.json'), '--tier', 'free', '--json');
  const { key, id } = JSON.parse(created.out) as { key: string; id: string };
  const gw = await startGateway({ config, port: 0 });
  try {
    const url = `${gw.url}/v1/models/digits-mlp/predict`;
    const body = JSON.stringify({ inputs: [Array.from({ length: 64 }, () => 0.5)] });
    const ask = (headers: Record<string, string>) =>
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const ok = await ask({ 'x-api-key': key });
    assert.equal(ok.status, 200);
    const probs = ((await ok.json()) as { predictions: { probabilities: number[] }[] }).predictions[0].probabilities;
    assert.ok(
      probs.every((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-4),
      'the round stage applies',
    );
    assert.equal((await ask({})).status, 401);
    assert.equal(heist('keys', 'revoke', id, '--keys', join(dir, 'keys.json')).code, 0);
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await ask({ 'x-api-key': key })).status;
    }
    assert.equal(status, 401, 'revoked within 5 s through the watched key file');
    assert.equal(await gw.auditStore!.count(), (await gw.auditStore!.query()).length);
    assert.ok((await gw.auditStore!.count()) >= 3, 'served and refused requests are all audited');
  } finally {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad deployment file is refused at start-up, naming the file and the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-deploy-'));
  try {
    const cases: [string, RegExp][] = [
      [deployment().replace('minute: 1000', 'minute: -3'), /access\.tiers\.free\.perKey\.requests\.minute/],
      [
        deployment().replace('name: round', 'name: rounding'),
        /models\.0\.defenses\.0\.name: unknown defense "rounding"/,
      ],
      [deployment('bogus: 1\n'), /bogus/],
      [deployment().replace('options: { decimals: 2 }', 'options: { decimals: 99 }'), /models\.0\.defenses.*decimals/],
      [deployment('limits: { store: "carrier-pigeon://x" }\n'), /carrier-pigeon/],
    ];
    for (const [text, re] of cases) {
      const config = join(dir, 'gateway.yaml');
      writeFileSync(config, text);
      const r = heist('serve', '--config', config, '--port', '0');
      assert.equal(r.code, 2, `${re}: exit code (stderr ${r.err})`);
      assert.match(r.err, /HEIST_ERR_BAD_CONFIG/);
      assert.match(r.err, re);
    }
    const flags = heist('serve', '--model', join(modelsDir, 'digits-mlp.onnx'), '--port', '0');
    assert.equal(flags.code, 2);
    assert.match(flags.err, /--keys FILE .* or --anonymous/, 'keys or explicit anonymous access');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('heist profile prints what the deployment reveals, its limits and its fail modes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-deploy-'));
  try {
    const config = join(dir, 'gateway.yaml');
    writeFileSync(config, deployment('limits: { store: "redis://:hunter2hunter2@127.0.0.1:6379", failMode: open }\n'));
    heist('keys', 'create', '--keys', join(dir, 'keys.json'), '--tier', 'free');
    const r = heist('profile', '--config', config);
    assert.equal(r.code, 0, r.err);
    for (const re of [
      /## Who may ask/,
      /Anonymous access is off/,
      /Active keys by tier: free 1/,
      /\| free \| 1000 requests\/minute \| unlimited \|/,
      /fail-open/,
      /### digits-mlp/,
      /`round` \{"decimals":2\}/,
      /## Audit log/,
      /fail-closed/,
    ])
      assert.match(r.out, re);
    assert.ok(!r.out.includes('hunter2hunter2'), 'no password in the profile');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped example deployment file is valid (heist profile reads it)', () => {
  const r = heist('profile', '--config', join(repoRoot, 'examples/gateway.yaml'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /### digits-committee/);
});

test('a keyed-randomness defense takes the deployment secret from the environment: same input, same answer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-deploy-'));
  const config = join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    `version: heist.gateway/v1
secretEnv: TEST_DEFENSE_SECRET
models:
  - file: ${join(modelsDir, 'digits-mlp.onnx')}
    defenses: [{ name: gaussian-noise, options: { sigma: 0.05 } }]
access: { anonymousTier: anon, tiers: { anon: {} } }
`,
  );
  try {
    await assert.rejects(startGateway({ config, port: 0, env: {} }), /secretEnv.*TEST_DEFENSE_SECRET/);
    const gw = await startGateway({
      config,
      port: 0,
      env: { TEST_DEFENSE_SECRET: 'a-deployment-secret-of-some-length' },
    });
    try {
      const ask = async () =>
        (
          await fetch(`${gw.url}/v1/models/digits-mlp/predict`, {
            method: 'POST',
            body: JSON.stringify({ inputs: [Array.from({ length: 64 }, (_, i) => (i % 7) / 7)] }),
            headers: { 'content-type': 'application/json' },
          })
        ).text();
      const a = await ask();
      assert.equal(await ask(), a, 'identical inputs, identical answers');
      assert.match(a, /probabilities/);
    } finally {
      await gw.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
