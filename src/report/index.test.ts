/** @file Tests for the report registry and `renderReport` (re-render report.html from a run.json on disk). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHeistError } from '../core/errors.js';
import { createReporters, readRunRecord, renderReport, reporters } from './index.js';
import { sampleRunRecord } from './sample-run.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'heist-report-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('registry names match the reporter names', () => {
  for (const name of reporters.names()) {
    assert.equal(reporters.create(name, {}, { stream: { write: () => true } }).name, name);
  }
  assert.throws(
    () => createReporters(['json', 'pdf']),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.throws(
    () => createReporters(['terminal']),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.throws(
    () => createReporters(['toString']),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});

test('json + html reporters write run.json and report.html at the end of a run', async () => {
  await withDir(async (dir) => {
    const run = sampleRunRecord();
    for (const r of createReporters(['json', 'html'])) await r.onEnd(run, dir);
    assert.deepEqual(await readRunRecord(join(dir, 'run.json')), run);
    assert.ok((await readFile(join(dir, 'report.html'), 'utf8')).includes('0.9187'));
  });
});

test('renderReport re-renders DIR/report.html from DIR/run.json alone', async () => {
  await withDir(async (dir) => {
    const run = sampleRunRecord({
      metrics: { fidelity: 0.7777, accuracy: 0.6666 },
      references: [{ name: 'ART reference', metric: 'fidelity', points: [{ queries: 3000, value: 0.85 }] }],
    });
    await writeFile(join(dir, 'run.json'), JSON.stringify(run));
    const out = await renderReport(join(dir, 'run.json'));
    assert.equal(out, join(dir, 'report.html'));
    const html = await readFile(out, 'utf8');
    assert.ok(html.includes('0.7777') && html.includes('0.6666'));
    assert.ok(html.includes('ART reference (fidelity)'), 'references stored in run.json reach the plot');
    assert.ok(html.includes('<svg'));
  });
});

test('renderReport refuses a bad or missing run.json and writes nothing', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'run.json'), JSON.stringify({ ...sampleRunRecord(), schema: 'heist.run/v0' }));
    await assert.rejects(renderReport(join(dir, 'run.json')), (e) => isHeistError(e, 'HEIST_ERR_BAD_DATA'));
    await assert.rejects(stat(join(dir, 'report.html')));
    await assert.rejects(renderReport(join(dir, 'nope', 'run.json')), (e) => isHeistError(e, 'HEIST_ERR_BAD_DATA'));
  });
});
