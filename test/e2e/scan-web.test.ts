/**
 * @file `heist scan-web` in real headless Chromium (Debian's /usr/bin/chromium): a loopback page
 * runs a TF.js classifier in the browser (tf.min.js from the tfjs package, the model fetched as
 * model.json + a weight shard). The scan saves the artefacts with their hashes, turns the model into
 * a local file whose predictions equal the page's own, and that file can be stolen like any model.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadTfjsModel } from '../../src/backends/tfjs-model.js';
import { initTfjs } from '../../src/backends/tfjs.js';
import { repoRoot } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { readRunRecord } from '../../src/report/run-record.js';
import { runScanWeb } from '../../src/runs/scan-web-run.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { saveLayersModel } from '../helpers/tfjs-files.js';

const chromiumPath = process.env.HEIST_CHROMIUM ?? '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'heist-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('scan-web finds the TF.js model a page runs, saves it loadable, and it predicts what the page predicts', {
  skip: existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath}`,
}, async () => {
  // The page's model: a small digits classifier, trained for a few epochs so that stealing it means something.
  await initTfjs();
  const digits = loadScenarioData('digits-mlp');
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [64],
      units: 32,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(
    tf.layers.dense({
      units: 10,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  await m.fit(
    tf.tensor(digits.victimTrain.x.data, [digits.victimTrain.x.shape[0], 64]),
    tf.tensor(Array.from(digits.victimTrain.y!)),
    { epochs: 15, batchSize: 64, shuffle: false, verbose: 0 },
  );
  const site = join(dir, 'site');
  await saveLayersModel(m, join(site, 'model'));
  m.dispose();
  const rows = Array.from(digits.evaluation.x.data.subarray(0, 16 * 64));
  writeFileSync(
    join(site, 'index.html'),
    `<!doctype html><html><head><script src="/tf.min.js"></script></head><body><script>
      (async () => {
        const model = await tf.loadLayersModel('/model/model.json');
        const p = model.predict(tf.tensor(${JSON.stringify(rows)}, [16, 64]));
        await fetch('/report', { method: 'POST', body: JSON.stringify(Array.from(await p.data())) });
      })();
    </script></body></html>`,
  );
  let pagePredictions: number[] | undefined;
  const files: Record<string, string> = {
    '/': join(site, 'index.html'),
    '/tf.min.js': join(repoRoot, 'node_modules/@tensorflow/tfjs/dist/tf.min.js'),
    '/model/model.json': join(site, 'model', 'model.json'),
    '/model/group1-shard1of1.bin': join(site, 'model', 'group1-shard1of1.bin'),
  };
  const server = createServer(async (req, res) => {
    if (req.method === 'POST' && req.url === '/report') {
      let s = '';
      for await (const c of req) s += c;
      pagePredictions = JSON.parse(s) as number[];
      res.end('ok');
      return;
    }
    const f = files[req.url ?? ''];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    const type = f.endsWith('.html')
      ? 'text/html'
      : f.endsWith('.js')
        ? 'text/javascript'
        : f.endsWith('.json')
          ? 'application/json'
          : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(f));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const out = join(dir, 'scan');
    // 5 s after network idle: the page parses tf.js and runs its model after its last fetch, which
    // takes seconds on a loaded 2-core CI machine.
    const { models, artefacts } = await runScanWeb({
      url: `http://127.0.0.1:${port}/`,
      out,
      chromium: chromiumPath,
      waitMs: 5000,
    });
    assert.ok(pagePredictions, 'the page ran its model');
    assert.deepEqual(artefacts.map((a) => a.kind).sort(), ['tfjs-model-json', 'tfjs-weights']);
    const shard = artefacts.find((a) => a.kind === 'tfjs-weights')!;
    assert.equal(
      shard.sha256,
      createHash('sha256')
        .update(readFileSync(join(site, 'model', 'group1-shard1of1.bin')))
        .digest('hex'),
    );
    assert.equal(models.length, 1);
    assert.deepEqual(models[0].inputShape, [64]);
    assert.equal(models[0].classes, 10);
    const record = await readRunRecord(join(out, 'run.json'));
    assert.equal(record.kind, 'scan');
    assert.ok(existsSync(join(out, 'report.html')));

    const saved = await loadTfjsModel(join(out, models[0].file));
    const ours = (await saved.predict({ data: Float32Array.from(rows), shape: [16, 64] })).scores!.data;
    await saved.close();
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - pagePredictions![i]));
    assert.ok(maxDiff < 1e-5, `the saved model predicts what the page predicted (max |dp| ${maxDiff})`);

    const steal = await runSteal({
      target: join(out, models[0].file),
      budget: 250,
      pool: 'digits-mlp',
      checkpoints: [250],
      out: join(dir, 'steal'),
    });
    assert.ok(steal.metrics.fidelity! >= 0.85, `fidelity ${steal.metrics.fidelity}`);
    process.stderr.write(
      `scan-web: max |dp| page vs saved ${maxDiff}; steal of the saved model: fidelity ${steal.metrics.fidelity} at 250 queries\n`,
    );
  } finally {
    server.close();
  }
});
