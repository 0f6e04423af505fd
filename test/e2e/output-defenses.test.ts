/**
 * @file Output defenses from the registry, behind the real gateway (`ServeOptions.defenses`, as
 * `heist serve --defense NAME=OPTIONS`): top-k serves k renormalised probabilities and keeps every
 * label; label-only makes the model describe itself as label-only, and a steal then trains on labels.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { modelsDir } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { startGateway } from '../../src/runs/serve-run.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-defenses-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(modelsDir, 'digits-mlp.onnx');
const rows = Array.from({ length: 8 }, (_, i) =>
  Array.from(loadScenarioData('digits-mlp').evaluation.x.data.subarray(i * 64, (i + 1) * 64)),
);

async function predict(url: string): Promise<{ label: number; probabilities?: number[] }[]> {
  const res = await fetch(`${url}/v1/models/digits-mlp/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: rows }),
  });
  return ((await res.json()) as { predictions: { label: number; probabilities?: number[] }[] }).predictions;
}

test('top-k over HTTP: k renormalised probabilities, the same labels as undefended', async () => {
  const plain = await startGateway({ anonymous: true, models: [model], port: 0 });
  const defended = await startGateway({
    anonymous: true,
    models: [model],
    port: 0,
    defenses: [{ name: 'top-k', options: { k: 3 } }],
  });
  try {
    const a = await predict(plain.url);
    const b = await predict(defended.url);
    for (let i = 0; i < rows.length; i++) {
      assert.equal(b[i].label, a[i].label);
      const p = b[i].probabilities!;
      assert.ok(p.filter((v) => v > 0).length <= 3);
      assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-6);
    }
  } finally {
    await plain.close();
    await defended.close();
  }
});

test('label-only: the gateway declares labels, and a steal of it trains on labels', async () => {
  const gw = await startGateway({ anonymous: true, models: [model], port: 0, defenses: [{ name: 'label-only' }] });
  try {
    assert.equal(
      ((await (await fetch(`${gw.url}/v1/models/digits-mlp`)).json()) as { output: string }).output,
      'label',
    );
    assert.equal((await predict(gw.url))[0].probabilities, undefined);
    const r = await runSteal({
      target: `${gw.url}/v1/models/digits-mlp`,
      budget: 250,
      pool: 'digits-mlp',
      checkpoints: [250],
      out: join(dir, 'label'),
    });
    assert.equal(r.config.labels, 'hard');
    assert.ok(r.metrics.fidelity! >= 0.85, `fidelity ${r.metrics.fidelity}`);
  } finally {
    await gw.close();
  }
});
