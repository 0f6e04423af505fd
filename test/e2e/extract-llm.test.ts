/** `heist extract --method llm-final-layer` end to end: the tiny LM behind the gateway, over HTTP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelsDir } from '../../src/datasets/paths.js';
import { readRunRecord } from '../../src/report/run-record.js';
import { runExtractLlm } from '../../src/runs/extract-llm-run.js';
import { startGateway } from '../../src/runs/serve-run.js';

test('full logits over HTTP: hidden size 96, aligned W within 1e-4, a heist.run/v1 record and report', async () => {
  const gw = await startGateway({ anonymous: true, models: [], lms: [join(modelsDir, 'tiny-lm.json')], port: 0 });
  const out = mkdtempSync(join(tmpdir(), 'heist-llm-'));
  try {
    const { record } = await runExtractLlm({
      target: `${gw.url}/v1`,
      out,
      prompts: 128,
      logits: 'full',
      verify: join(modelsDir, 'tiny-lm.json'),
    });
    assert.equal(record.hiddenSize, 96);
    const run = await readRunRecord(join(out, 'run.json'));
    assert.equal(run.kind, 'extract');
    assert.equal(run.metrics.hiddenSize, 96);
    assert.equal(run.queries.used, 128);
    assert.ok(run.metrics.alignedRms! <= 1e-4, `RMS ${run.metrics.alignedRms}`);
    for (const f of ['report.html', 'projection.json', 'llm-run.json', 'transcript.jsonl'])
      assert.ok(existsSync(join(out, f)), f);
  } finally {
    await gw.close();
  }
});

test('top-5 logprobs + logit_bias over the chat completions API: the same hidden size and W', async () => {
  const gw = await startGateway({ anonymous: true, models: [], lms: [join(modelsDir, 'tiny-lm.json')], port: 0 });
  const out = mkdtempSync(join(tmpdir(), 'heist-llm-chat-'));
  try {
    const { record } = await runExtractLlm({
      target: `${gw.url}/v1`,
      api: 'chat',
      out,
      prompts: 100,
      logits: 'topk',
      verify: join(modelsDir, 'tiny-lm.json'),
    });
    assert.equal(record.hiddenSize, 96);
    assert.ok(record.verification!.rms <= 1e-4, `RMS ${record.verification!.rms}`);
    const first = JSON.parse(readFileSync(join(out, 'transcript.jsonl'), 'utf8').split('\n')[1]) as {
      response: { object: string };
    };
    assert.equal(first.response.object, 'chat.completion', 'the answers came from /v1/chat/completions');
    await assert.rejects(
      runExtractLlm({ target: `${gw.url}/v1`, api: 'chat', out: join(out, 'full'), logits: 'full' }),
      /no full logits/,
    );
  } finally {
    await gw.close();
  }
});
