/** @file The durable transcript: round trip, refusal to clobber, resume after a kill (simulated and real SIGKILL). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fakeClock, linearModel, rowsFrom, startServer } from '../../test/query/fixtures.js';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { httpOracle } from '../oracle/http.js';
import { localOracle } from '../oracle/local.js';
import type { QueryClient } from './types.js';
import { createQueryClient } from './client.js';
import { readTranscript } from './transcript.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'heist-tx-'));

/** A seeded attack: batches of 4 rows, sized by rows obtained; stops after `rounds` or at the budget. */
async function attack(c: QueryClient, seed: number, budget: number, rounds = Infinity): Promise<void> {
  const rng = createRng(seed);
  for (let got = 0, r = 0; got < budget && r < rounds; got += 4, r++) await c.query(rowsFrom(rng.next, 4));
}

test('every paid row is recorded with its input and answer, exactly', async () => {
  const path = join(tmp(), 'run', 'transcript.jsonl');
  const clock = fakeClock();
  const c = createQueryClient(localOracle(linearModel()), {
    budget: { attack: 10, eval: 2 },
    transcriptPath: path,
    clock,
  });
  const x = { data: Float32Array.from([0.1, 1 / 3, -0, 1e-8, 0.5, 0.25, 0.7, 0.9]), shape: [2, 4] };
  const p = await c.query(x);
  await c.query(x); // cached: not recorded again
  await c.query(x, { purpose: 'eval' });
  await c.close();
  const t = readTranscript(path);
  assert.equal(t.header?.model, 'lin');
  assert.equal(t.rows.length, 4);
  assert.deepEqual(
    t.rows.map((r) => r.purpose),
    ['attack', 'attack', 'eval', 'eval'],
  );
  assert.deepEqual(Array.from(t.rows[0].x), Array.from(x.data.subarray(0, 4)));
  assert.ok(Object.is(t.rows[0].x[2], -0));
  assert.deepEqual(Array.from(t.rows[1].probs!), Array.from(p.scores!.data.subarray(3, 6)));
  assert.equal(t.rows[1].label, p.labels[1]);
  assert.equal(t.rows[0].at, clock.now());
});

test('an existing transcript is refused without resume, replaced with overwrite, checked on resume', async () => {
  const path = join(tmp(), 't.jsonl');
  const o = localOracle(linearModel());
  const a = createQueryClient(o, { budget: 4, transcriptPath: path });
  await a.query(rowsFrom(createRng(1).next, 2));
  await a.close();
  assert.throws(
    () => createQueryClient(o, { budget: 4, transcriptPath: path }),
    (e) => isHeistError(e, 'HEIST_ERR_RESUME'),
  );
  const other = localOracle(linearModel({ name: 'other' }));
  assert.throws(
    () => createQueryClient(other, { budget: 4, transcriptPath: path, resume: true }),
    (e) => isHeistError(e, 'HEIST_ERR_RESUME'),
  );
  const lines = readFileSync(path, 'utf8').split('\n');
  writeFileSync(path, [lines[0], '{"hash":"x"', lines[2], ''].join('\n')); // corrupt middle line
  assert.throws(
    () => createQueryClient(o, { budget: 4, transcriptPath: path, resume: true }),
    (e) => isHeistError(e, 'HEIST_ERR_RESUME'),
  );
  const b = createQueryClient(o, { budget: 4, transcriptPath: path, overwrite: true });
  assert.equal(b.used, 0);
  await b.close();
  assert.equal(readTranscript(path).rows.length, 0);
});

test('resume after a drop with a torn last line: total paid == budget, only the torn row re-bought', async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const url = `${s.base}/v1/models/lin`;
  const path = join(tmp(), 't.jsonl');
  const first = createQueryClient(await httpOracle(url), { budget: 20, transcriptPath: path, maxCallRows: 2 });
  await attack(first, 42, 20, 3); // 12 rows, then "killed": never closed
  const size = readFileSync(path).length;
  truncateSync(path, size - 25); // the last row's line is torn mid-write
  assert.equal(readTranscript(path).rows.length, 11);
  assert.equal(readTranscript(path).tornBytes > 0, true);

  const second = createQueryClient(await httpOracle(url), {
    budget: 20,
    transcriptPath: path,
    resume: true,
    maxCallRows: 2,
  });
  assert.equal(second.used, 11);
  assert.equal(second.remaining, 9);
  await attack(second, 42, 20);
  await second.close();
  assert.equal(second.used, 20);
  assert.equal(second.remaining, 0);
  assert.equal(second.cached, 11);
  const rows = readTranscript(path).rows;
  assert.equal(rows.length, 20);
  assert.equal(new Set(rows.map((r) => r.hash)).size, 20, 'no input recorded twice');
  assert.equal(s.stats.rowsAnswered, 21, 'budget + the one torn row');
  assert.equal(new Set(s.stats.answeredHashes).size, 20);
});

test('resume after a clean drop spends exactly the remaining budget', async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const url = `${s.base}/v1/models/lin`;
  const path = join(tmp(), 't.jsonl');
  await attack(createQueryClient(await httpOracle(url), { budget: 20, transcriptPath: path }), 9, 20, 2);
  const again = createQueryClient(await httpOracle(url), { budget: 20, transcriptPath: path, resume: true });
  await attack(again, 9, 20);
  assert.equal(again.used, 20);
  assert.equal(s.stats.rowsAnswered, 20);
  assert.equal(new Set(s.stats.answeredHashes).size, 20, 'no input bought twice');
  await assert.rejects(again.query(rowsFrom(createRng(99).next, 1)), (e) =>
    isHeistError(e, 'HEIST_ERR_BUDGET_EXHAUSTED'),
  );
});

test('a real SIGKILL mid-run: resume finishes on budget, re-buying at most the calls in flight', async (t) => {
  const s = await startServer({ delayMs: 20 });
  t.after(() => s.close());
  const url = `${s.base}/v1/models/lin`;
  const path = join(tmp(), 't.jsonl');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/query/kill-child.ts', url, path, '5', '40', '0'], {
    stdio: 'inherit',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  while (s.stats.rowsAnswered < 10) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGKILL');
  assert.equal(await exited, null);
  const before = readTranscript(path).rows.length;
  assert.ok(before >= 6 && before < 40, `recorded ${before}`);

  const resumed = createQueryClient(await httpOracle(url), {
    budget: 40,
    transcriptPath: path,
    resume: true,
    concurrency: 2,
    maxCallRows: 2,
  });
  assert.equal(resumed.used, before);
  await attack(resumed, 5, 40);
  await resumed.close();
  assert.equal(resumed.used, 40);
  const rows = readTranscript(path).rows;
  assert.equal(rows.length, 40);
  assert.equal(new Set(rows.map((r) => r.hash)).size, 40);
  const rebought = s.stats.rowsAnswered - new Set(s.stats.answeredHashes).size;
  assert.ok(rebought <= 2 * 2, `re-bought ${rebought} rows, more than concurrency x maxCallRows`);
  assert.ok(s.stats.rowsAnswered <= 40 + 4);
});
