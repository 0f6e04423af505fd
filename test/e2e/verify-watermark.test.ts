/**
 * @file The watermark end to end (issue 11, E6/F3): a gateway serving mnist-cnn with the watermark
 * stage (runner-up mode) and a SQLite audit log is stolen over HTTP (soft labels, the 3,000-row
 * pool, an MLP substitute); `heist verify watermark` replays the watermarked inputs of the log
 * against the stolen copy and identifies it with p < 2^-64, while 5 copies trained on the
 * undefended victim (never having seen a watermarked answer) stay above p = 0.01. Also: honest
 * top-1 accuracy is unchanged (runner-up mode never moves the top-1), the selection rate falls in
 * the binomial 99% interval, and the secret appears in no output.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import { silentLogger } from '../../src/core/types.js';
import { modelsDir, repoRoot } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { createDefenses, defendPredictor } from '../../src/defenses/index.js';
import { startGateway } from '../../src/runs/serve-run.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { verifyWatermarkRun } from '../../src/runs/verify-watermark-run.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-watermark-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'watermark-e2e-deployment-secret-0123';
const env = { HEIST_WM_SECRET: SECRET };
const model = join(modelsDir, 'mnist-cnn.onnx');
const watermarkOptions = { rate: 0.1, mode: 'runner-up' as const, strength: 0.5 };
const audit = `sqlite://${join(dir, 'audit.db')}`;

function accuracy(labels: Int32Array, truth: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (labels[i] === truth[i]) ok++;
  return ok / truth.length;
}

test('a copy stolen through the watermarking gateway is identified (p < 2^-64); 5 independent copies are not (p > 0.01)', async (t) => {
  const gw = await startGateway({
    anonymous: true,
    models: [model],
    audit,
    secretEnv: 'HEIST_WM_SECRET',
    env,
    defenses: [{ name: 'watermark', options: watermarkOptions }],
    port: 0,
  });
  let stolen: string;
  try {
    const rec = await runSteal({
      target: `${gw.url}/v1/models/mnist-cnn`,
      budget: 3000,
      pool: 'mnist-cnn',
      checkpoints: [3000],
      arch: 'mlp',
      labels: 'soft',
      seed: 0,
      out: join(dir, 'stolen'),
    });
    t.diagnostic(`stolen copy: fidelity ${rec.metrics.fidelity}, accuracy ${rec.metrics.accuracy}`);
    stolen = join(dir, 'stolen', 'substitute.onnx');
  } finally {
    await gw.close();
  }

  const r = await verifyWatermarkRun(
    { suspect: stolen, audit, keyEnv: 'HEIST_WM_SECRET', watermarkRate: 0.1, mode: 'runner-up', out: join(dir, 'v0') },
    env,
  );
  t.diagnostic(
    `stolen: matched ${r.verdict.matched}/${r.verdict.queried}, log2 p = ${r.verdict.log2PValue.toFixed(1)}; ` +
      `selected ${r.watermarkedInputs}/${r.scannedInputs} (99% interval ${r.selectionInterval99.join('-')})`,
  );
  assert.ok(r.verdict.log2PValue < -64, `p = 2^${r.verdict.log2PValue}`);
  assert.equal(r.identified, true);
  assert.equal(r.queriesSpent, r.watermarkedInputs);
  assert.ok(r.scannedInputs >= 4900, `${r.scannedInputs} distinct inputs logged (3,000 pool + 2,000 evaluation)`);
  const [lo, hi] = r.selectionInterval99;
  assert.ok(r.watermarkedInputs >= lo && r.watermarkedInputs <= hi, 'the selection rate is in the 99% interval');
  assert.equal(readFileSync(r.transcript, 'utf8').trim().split('\n').length > 0, true, 'the paid answers are on disk');

  // Independent copies: stolen from the undefended victim file, with other seeds.
  for (let seed = 1; seed <= 5; seed++) {
    await runSteal({
      target: model,
      budget: 500,
      pool: 'mnist-cnn',
      checkpoints: [500],
      arch: 'mlp',
      labels: 'soft',
      seed,
      out: join(dir, `independent-${seed}`),
    });
    const v = await verifyWatermarkRun(
      {
        suspect: join(dir, `independent-${seed}`, 'substitute.onnx'),
        audit,
        keyEnv: 'HEIST_WM_SECRET',
        watermarkRate: 0.1,
        mode: 'runner-up',
        out: join(dir, `v${seed}`),
      },
      env,
    );
    t.diagnostic(
      `independent ${seed}: matched ${v.verdict.matched}/${v.verdict.queried}, p = ${v.verdict.pValue.toFixed(3)}`,
    );
    assert.ok(v.verdict.pValue > 0.01, `independent copy ${seed}: p = ${v.verdict.pValue}`);
    assert.equal(v.identified, false);
  }

  // The CLI, as a user runs it: the same verdict; the secret is printed nowhere.
  const cli = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'bin/heist.js'),
      'verify',
      'watermark',
      '--suspect',
      stolen,
      '--audit',
      audit,
      '--key-env',
      'HEIST_WM_SECRET',
      '--watermark-rate',
      '0.1',
      '--mode',
      'runner-up',
      '--out',
      join(dir, 'cli'),
    ],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  );
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /IDENTIFIED/);
  assert.match(cli.stdout, new RegExp(`matched ${r.verdict.matched} of ${r.verdict.queried}`));
  for (const text of [cli.stdout, cli.stderr, JSON.stringify(r), readFileSync(r.transcript, 'utf8')])
    assert.ok(!text.includes(SECRET), 'the secret never appears');
});

test('runner-up mode costs honest users no top-1 accuracy; label mode costs about its rate', async (t) => {
  const victim = await loadOnnxModel(model);
  const { x, y: truth } = loadScenarioData('mnist-cnn').evaluation;
  const y = truth!;
  const deps = { clock: { now: () => 0, sleep: async () => {} }, log: silentLogger, secret: Buffer.from(SECRET) };
  const plain = (await victim.predict(x)).labels;
  const runnerUp = defendPredictor(victim, createDefenses([{ name: 'watermark', options: watermarkOptions }], deps));
  const label = defendPredictor(victim, createDefenses([{ name: 'watermark', options: { rate: 0.004 } }], deps));
  const a0 = accuracy(plain, y);
  const a1 = accuracy((await runnerUp.predict(x)).labels, y);
  const a2 = accuracy((await label.predict(x)).labels, y);
  t.diagnostic(`honest top-1 accuracy: undefended ${a0}, runner-up (rate 0.1) ${a1}, label (rate 0.004) ${a2}`);
  assert.equal(a1, a0, 'runner-up mode never changes a top-1 label');
  assert.ok(a0 - a2 <= 0.005, `label mode at rate 0.004 costs ${((a0 - a2) * 100).toFixed(2)} points`);
  assert.ok(a2 < a0, 'label mode does change some labels');
});
