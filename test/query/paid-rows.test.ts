/**
 * @file Nothing paid is lost, nothing is bought twice, against an API that caps its batches at 10
 * rows: a 256-row call is 26 upstream requests. A 429 at request 21 is retried alone; a 5xx or a
 * dropped connection that outlasts the retries fails the call, yet every request answered before it
 * is in the transcript and counted by the budget (equal to the server's own count of answered rows),
 * and `resume` continues from there, buying only the rest.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { httpOracle } from '../../src/oracle/http.js';
import { createQueryClient } from '../../src/query/client.js';
import { readTranscript } from '../../src/query/transcript.js';
import { type Reply, fakeClock, linearModel, rowsFrom, startServer } from './fixtures.js';

const capped = { lin: { predictor: linearModel(), maxBatch: 10 } };
const rows = rowsFrom(createRng(3).next, 256);
const retry = { retries: 2, baseDelayMs: 1, maxDelayMs: 2 };

test('a 429 at request 21 of a 256-row call re-sends that request only', async (t) => {
  const s = await startServer({
    models: capped,
    intercept: (i) => (i === 20 ? { status: 429, headers: { 'retry-after': '0' }, body: '{"error":{}}' } : undefined),
  });
  t.after(() => s.close());
  const c = createQueryClient(await httpOracle(`${s.base}/v1/models/lin`), {
    budget: 256,
    clock: fakeClock(),
    concurrency: 1,
    retry,
  });
  const p = await c.query(rows);
  assert.equal(p.labels.length, 256);
  assert.ok(
    s.stats.batchSizes.every((n) => n <= 10),
    'no request over the cap',
  );
  assert.equal(s.stats.predictRequests, 27, '26 requests and the one retry');
  assert.equal(s.stats.rowsAnswered, 256);
  assert.equal(new Set(s.stats.answeredHashes).size, 256, 'nothing bought twice');
  assert.equal(c.used, 256);
});

for (const [what, failure] of [
  ['a 5xx', { status: 503, body: '{"error":{"code":"HEIST_ERR_INTERNAL"}}' }],
  ['a dropped connection', { status: 0, body: '', drop: true }],
] as [string, Reply][]) {
  test(`${what} that outlasts the retries: every answered request is on disk and counted; resume buys only the rest`, async (t) => {
    let failing = true;
    const s = await startServer({ models: capped, intercept: (i) => (failing && i >= 20 ? failure : undefined) });
    t.after(() => s.close());
    const url = `${s.base}/v1/models/lin`;
    const path = join(mkdtempSync(join(tmpdir(), 'heist-paid-')), 'transcript.jsonl');
    const first = createQueryClient(await httpOracle(url), {
      budget: 256,
      transcriptPath: path,
      clock: fakeClock(),
      concurrency: 1,
      retry,
    });
    await assert.rejects(first.query(rows), (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM'));
    assert.equal(s.stats.rowsAnswered, 200, '20 requests of 10 rows were answered (and billed)');
    assert.equal(first.used, 200, 'the budget counts every row the target answered');
    assert.equal(readTranscript(path).rows.length, 200, 'and every one is on disk');
    await first.close();

    failing = false;
    const second = createQueryClient(await httpOracle(url), {
      budget: 256,
      transcriptPath: path,
      resume: true,
      clock: fakeClock(),
      retry,
    });
    assert.equal(second.used, 200);
    const p = await second.query(rows);
    await second.close();
    assert.equal(p.labels.length, 256);
    assert.equal(second.used, 256);
    assert.equal(s.stats.rowsAnswered, 256, "the server's count of answered rows equals Heist's paid count");
    assert.equal(new Set(s.stats.answeredHashes).size, 256, 'nothing bought twice');
    assert.equal(readTranscript(path).rows.length, 256);
  });
}
