/**
 * @file Every registered reporter through the reporter conformance suite: it takes a run's whole
 * lifecycle (start, rounds, end) without error, and whatever it writes into the run folder is
 * non-empty; run.json, when written, reads back as a valid heist.run/v1 record.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readRunRecord, reporters } from '../../src/report/index.js';
import { sampleRunRecord } from '../../src/report/sample-run.js';

for (const entry of reporters.entries()) {
  test(`reporter ${entry.name} conforms: a whole run's lifecycle, files non-empty, run.json valid`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heist-rep-'));
    try {
      let printed = '';
      const r = reporters.create(entry.name, entry.example ?? {}, { stream: { write: (c: string) => (printed += c) } });
      assert.equal(r.name, entry.name);
      const run = sampleRunRecord();
      await r.onStart?.({ id: run.id, kind: run.kind, config: run.config });
      for (const round of run.rounds) await r.onRound?.(round);
      await r.onEnd(run, dir);
      const files = readdirSync(dir);
      for (const f of files) assert.ok(statSync(join(dir, f)).size > 0, `${entry.name} wrote an empty ${f}`);
      assert.ok(files.length > 0 || printed.length > 0, `${entry.name} produced nothing`);
      if (existsSync(join(dir, 'run.json'))) assert.deepEqual(await readRunRecord(join(dir, 'run.json')), run);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
