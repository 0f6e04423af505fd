/**
 * @file `heist probe` (runProbe): the format and model found with GET requests, the answers checked
 * with a few paid rows, a burst showing the target's rate limit, and every paid row counted and on
 * disk; a target no format fits gets a mapping skeleton instead.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readTranscript } from '../../src/query/transcript.js';
import { runProbe } from '../../src/runs/probe-run.js';
import { startServer } from '../query/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-probe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('probe: format, shape, output kind, latency, a 20 requests/s limit seen in a burst of 30, cost', async () => {
  const starts: number[] = [];
  const s = await startServer({
    intercept: () => {
      const now = Date.now();
      starts.push(now);
      return starts.filter((t) => t > now - 1000).length > 20
        ? { status: 429, headers: { 'retry-after': '1' }, body: '{"error":{"code":"HEIST_ERR_RATE_LIMITED"}}' }
        : undefined;
    },
  });
  const lines: string[] = [];
  try {
    const out = join(dir, 'ok');
    const r = await runProbe(
      { target: `${s.base}/v1/models/lin`, rows: 4, burst: 30, out, headers: { 'x-api-key': 'sekret' } },
      { log: (l) => lines.push(l) },
    );
    assert.equal(r.format, 'heist-v1');
    assert.deepEqual(r.info?.inputShape, [4]);
    assert.equal(r.observedOutput, 'probs');
    assert.deepEqual(r.mismatches, []);
    assert.ok(r.rateLimit && r.rateLimit.refused >= 10, `refused ${r.rateLimit?.refused} of 30`);
    assert.deepEqual([...new Set(r.rateLimit!.retryAfter)], ['1']);
    assert.equal(r.rowsPaid, s.stats.rowsAnswered, 'every row the target answered is counted');
    assert.equal(readTranscript(join(out, 'transcript.jsonl')).rows.length, r.rowsPaid, 'and on disk');
    assert.ok(r.latencyMs!.median > 0);
    assert.equal(lines.length, r.requests.length, 'one log line per request');
    const saved = readFileSync(join(out, 'probe.json'), 'utf8');
    assert.ok(!saved.includes('sekret') && !lines.join('\n').includes('sekret'), 'the key is neither logged nor saved');
  } finally {
    await s.close();
  }
});

test('probe: a target no format fits gets a mapping skeleton, and nothing is paid', async () => {
  const s = await startServer();
  try {
    const r = await runProbe({ target: `${s.base}/some/api`, out: join(dir, 'none') });
    assert.equal(r.error?.code, 'HEIST_ERR_BAD_CONFIG');
    assert.match(r.suggestedMapping ?? '', /^format: heist\.mapping\/v1$/m);
    assert.equal(r.rowsPaid, 0);
    assert.equal(s.stats.predictRequests, 0);
  } finally {
    await s.close();
  }
});
