/**
 * @file A steal through a mapping file (test/fixtures/acme.mapping.yaml) of an API Heist was never
 * written for, with an API key from the environment and a 20 requests/s limit: it finishes without
 * help (the mapping's rate keeps it under the limit), loses no paid row (the server's count of
 * answered rows equals Heist's paid count), writes the key nowhere, and resumes after SIGKILL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type OnnxPredictor, loadOnnxModel } from '../../src/backends/onnx-model.js';
import { isHeistError } from '../../src/core/errors.js';
import { modelsDir, repoRoot } from '../../src/datasets/paths.js';
import { readRunRecord } from '../../src/report/run-record.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { startAcme } from '../fixtures/acme-server.js';

const KEY = 'acme-secret-7f3a9c';
const mapping = join(repoRoot, 'test/fixtures/acme.mapping.yaml');
let victim: OnnxPredictor;
const dir = mkdtempSync(join(tmpdir(), 'heist-mapping-'));
before(async () => {
  victim = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
});
after(async () => {
  await victim.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a steal through the mapping file: no 429, every answered row paid once, the key written nowhere', async () => {
  const acme = await startAcme(victim, KEY);
  process.env.ACME_API_KEY = KEY;
  const out = join(dir, 'steal');
  try {
    const r = await runSteal({
      target: `${acme.base}/api/v2/classify`,
      format: mapping,
      budget: 250,
      pool: 'digits-mlp',
      out,
    });
    assert.equal(acme.stats.refused429, 0, 'the mapping rate kept the run under the limit');
    assert.equal(acme.stats.refused401, 0);
    assert.equal(
      acme.stats.rowsAnswered,
      r.queries.used + r.queries.eval,
      "the server's count equals Heist's paid count",
    );
    assert.equal(new Set(acme.stats.answeredHashes).size, acme.stats.rowsAnswered, 'no row bought twice');
    assert.equal(r.target.model, 'acme-digits');
    assert.ok(r.metrics.fidelity! >= 0.9, `fidelity ${r.metrics.fidelity}`);
    assert.equal(r.config.pricePerQuery, 0.0005, "the mapping's price per 1k rows");
    for (const f of readdirSync(out)) assert.ok(!readFileSync(join(out, f)).includes(KEY), `the key is in ${f}`);
  } finally {
    delete process.env.ACME_API_KEY;
    await acme.close();
  }
});

test('a bad mapping or a missing key variable is refused before any request, naming the key', async () => {
  const acme = await startAcme(victim, KEY);
  try {
    await assert.rejects(
      runSteal({
        target: `${acme.base}/api/v2/classify`,
        format: mapping,
        budget: 10,
        pool: 'digits-mlp',
        out: join(dir, 'nokey'),
      }),
      (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG') && /\$\{ACME_API_KEY\}, which is not set/.test(e.message),
    );
    const bad = join(repoRoot, 'test/fixtures/acme-bad.mapping.json');
    await assert.rejects(
      runSteal({
        target: `${acme.base}/api/v2/classify`,
        format: bad,
        budget: 10,
        pool: 'digits-mlp',
        out: join(dir, 'bad'),
      }),
      (e: unknown) =>
        isHeistError(e, 'HEIST_ERR_BAD_CONFIG') && /acme-bad\.mapping\.json: .*bad option response/.test(e.message),
    );
    assert.equal(acme.stats.rowsAnswered + acme.stats.refused401, 0);
  } finally {
    await acme.close();
  }
});

function steal(target: string, out: string, resume: boolean) {
  const args = [
    join(repoRoot, 'bin/heist.js'),
    'steal',
    '--target',
    target,
    '--format',
    mapping,
    '--budget',
    '449',
    '--pool',
    'digits-mlp',
    '--epochs',
    '150',
    '--out',
    out,
  ];
  return spawn(process.execPath, resume ? [...args, '--resume'] : args, {
    stdio: 'ignore',
    env: { ...process.env, ACME_API_KEY: KEY },
  });
}

function attackRows(transcript: string): number {
  return existsSync(transcript)
    ? readFileSync(transcript, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"purpose":"attack"')).length
    : 0;
}

test('killed with SIGKILL at half its budget, the mapped steal resumes and finishes on budget', async () => {
  const acme = await startAcme(victim, KEY);
  const out = join(dir, 'killed');
  const transcript = join(out, 'transcript.jsonl');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = steal(`${acme.base}/api/v2/classify`, out, false);
      const timer = setInterval(() => {
        if (attackRows(transcript) >= 449 / 2) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('exit', (_code, signal) => {
        clearInterval(timer);
        if (signal === 'SIGKILL') resolve();
        else reject(new Error('the run ended before it could be killed'));
      });
    });
    assert.ok(!existsSync(join(out, 'run.json')));
    await new Promise<void>((resolve, reject) => {
      steal(`${acme.base}/api/v2/classify`, out, true).on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`resume exited ${code}`)),
      );
    });
    const r = await readRunRecord(join(out, 'run.json'));
    assert.equal(r.queries.used, 449);
    assert.equal(acme.stats.refused429, 0);
    // Only requests in flight at the kill (at most 4 of 10 rows) can have been answered and not recorded.
    const extra = acme.stats.rowsAnswered - r.queries.total;
    assert.ok(extra >= 0 && extra <= 40, `${extra} rows answered beyond what the runs paid for`);
    assert.equal(new Set(acme.stats.answeredHashes).size + extra, acme.stats.rowsAnswered);
  } finally {
    await acme.close();
  }
});
