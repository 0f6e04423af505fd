/**
 * Export and the audit commands' functions, on SQLite (export only uses query(), which the
 * conformance suite checks for every store): JSON lines and CSV carry every field and read back to
 * the same float32 values, pages follow the (log, seq) cursor without gaps or repeats, since/until
 * filter; verify/export/prune as functions and through `heist audit export` and `heist audit prune`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import { repoRoot } from '../../src/datasets/paths.js';
import { exportAuditRun, pruneAuditRun, verifyAuditRun } from '../../src/runs/audit-run.js';
import { CSV_COLUMNS, exportAudit, float32Text } from '../../src/store/audit-export.js';
import { openAuditStore } from '../../src/store/index.js';
import type { AuditRecord, AuditStore } from '../../src/store/types.js';
import { sampleRecord } from './fixtures.js';

let dir = '';
let n = 0;
const stores: AuditStore[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'heist-audit-export-'));
});
after(async () => {
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A log file with `main` holding records 0-5 and `b` holding 6-7. */
async function logFile(): Promise<{ url: string; path: string; main: AuditRecord[]; store: AuditStore }> {
  const path = join(dir, `audit-${++n}.db`);
  const url = `sqlite://${path}`;
  const store = await openAuditStore(url);
  const b = await openAuditStore(url, { log: 'b' });
  stores.push(store, b);
  const main = Array.from({ length: 6 }, (_, i) => sampleRecord(i));
  await store.append(main);
  await b.append([sampleRecord(6), sampleRecord(7)]);
  return { url, path, main, store };
}

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let s = '';
  for await (const c of chunks) s += c;
  return s;
}

const bytes = (values: readonly (number | string)[]) =>
  Buffer.from(Float32Array.from(values.map((v) => (typeof v === 'string' ? Number(v) : v))).buffer).toString('hex');
const hex = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

interface ExportedRow {
  index: number;
  inputHash: string;
  input?: (number | string)[];
  raw?: { label: number; scores?: (number | string)[] };
  served?: { label: number; scores?: (number | string)[] };
}

/** Minimal RFC 4180 reader for the test's own output. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  return rows;
}

test('float32Text is the shortest decimal that reads back as the same float32', () => {
  for (let i = 0; i < 5000; i++) {
    const v = Math.fround(Math.sin(i) * 10 ** ((i % 40) - 20));
    assert.equal(Math.fround(Number(float32Text(v))), v);
  }
  assert.equal(float32Text(Math.fround(0.1)), '0.1');
  assert.equal(float32Text(Math.fround(1 / 255)), '0.003921569');
  assert.equal(float32Text(-0), '-0');
  assert.equal(float32Text(Number.NaN), 'NaN');
});

test('JSON lines: one record per line, every field, floats as float32 round trips', async () => {
  const { store, main } = await logFile();
  const text = await collect(exportAudit(store, { format: 'jsonl', log: 'main' }));
  const lines = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 6);
  const stored = await store.query({ log: 'main' });
  lines.forEach((l, i) => {
    const r = main[i];
    assert.equal(l.log, 'main');
    assert.equal(l.seq, i + 1);
    assert.equal(l.hash, stored[i].hash);
    assert.equal(l.prevHash, stored[i].prevHash);
    assert.equal(l.time, new Date(r.at).toISOString());
    for (const k of ['at', 'requestId', 'clientId', 'tier', 'ip', 'route', 'model', 'status', 'outcome', 'latencyMs'])
      assert.deepEqual(l[k], (r as unknown as Record<string, unknown>)[k], k);
    assert.deepEqual(l.flags, r.flags);
    assert.equal(l.rows.length, r.rows.length);
    l.rows.forEach((row: ExportedRow, j: number) => {
      const want = r.rows[j];
      assert.equal(row.index, want.index);
      assert.equal(row.inputHash, want.inputHash);
      if (want.input) assert.equal(bytes(row.input!), hex(want.input));
      else assert.equal(row.input, undefined);
      if (want.raw?.scores) assert.equal(bytes(row.raw!.scores!), hex(want.raw.scores));
      assert.equal(row.served?.label, want.served?.label);
    });
  });
  assert.deepEqual(lines[0].rows[1].raw.scores, ['NaN', 'Infinity', 0.5]);
});

test('CSV: a header, one line per row (one for a record without rows), fields quoted where needed', async () => {
  const { store, main } = await logFile();
  const text = await collect(exportAudit(store, { format: 'csv', log: 'main' }));
  const [header, ...rows] = parseCsv(text);
  assert.deepEqual(header, [...CSV_COLUMNS]);
  assert.equal(
    rows.length,
    main.reduce((k, r) => k + Math.max(1, r.rows.length), 0),
  );
  const col = (row: string[], name: (typeof CSV_COLUMNS)[number]) => row[CSV_COLUMNS.indexOf(name)];
  const first = rows[0];
  assert.equal(col(first, 'flags'), 'prada:suspicious;round:applied, "quoted"');
  assert.equal(col(first, 'row_index'), '0');
  assert.equal(bytes(col(first, 'input').split(' ')), hex(main[0].rows[0].input!));
  assert.equal(col(first, 'served_scores'), '0.1 0.7 0.2');
  const empty = rows.find((r) => col(r, 'request_id') === 'req-3')!;
  assert.equal(col(empty, 'row_index'), '');
  assert.equal(col(empty, 'tier'), '');
  assert.ok(rows.every((r) => r.length === CSV_COLUMNS.length));
});

test('pages follow the (log, seq) cursor: every record once, in order; since and until filter', async () => {
  const { store } = await logFile();
  const seqs = (text: string) =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => {
        const r = JSON.parse(l);
        return `${r.log}${r.seq}`;
      });
  for (const pageSize of [1, 2, 5, 100])
    assert.deepEqual(
      seqs(await collect(exportAudit(store, { format: 'jsonl', pageSize }))),
      ['b1', 'b2', 'main1', 'main2', 'main3', 'main4', 'main5', 'main6'],
      `pages of ${pageSize}`,
    );
  const since = sampleRecord(1).at;
  const some = await collect(exportAudit(store, { format: 'jsonl', since, until: sampleRecord(3).at, pageSize: 1 }));
  assert.deepEqual(seqs(some), ['main2', 'main3', 'main4']);
  assert.equal(await collect(exportAudit(store, { format: 'jsonl', since: 9e15 })), '');
});

test('the audit functions: verify, export, prune; a missing key variable or log is a configuration error', async () => {
  const { url, path } = await logFile();
  const report = await verifyAuditRun({ audit: url });
  assert.equal(report.ok, true);
  assert.equal(report.url, `sqlite://${path}`);
  assert.deepEqual(
    report.logs.map((l) => [l.log, l.records]),
    [
      ['b', 2],
      ['main', 6],
    ],
  );
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += chunk;
      done();
    },
  });
  const exported = await exportAuditRun({ audit: url, format: 'jsonl', log: 'b' }, sink);
  assert.equal(exported.records, 2);
  assert.equal(out.trimEnd().split('\n').length, 2);
  await assert.rejects(verifyAuditRun({ audit: url, hmacKeyEnv: 'HEIST_TEST_UNSET_KEY' }, {}), (e) =>
    isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  await assert.rejects(verifyAuditRun({ audit: url, log: 'nope' }), (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'));
  await assert.rejects(verifyAuditRun({ audit: `sqlite://${join(dir, 'missing.db')}` }), (e) =>
    isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  const pruned = await pruneAuditRun({ audit: url, before: sampleRecord(2).at });
  assert.deepEqual(pruned, { url, pruned: 2, left: 6 });
  assert.equal((await verifyAuditRun({ audit: url })).ok, true);
});

function heist(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/heist.js'), ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

test('heist audit export --format csv --out FILE, and heist audit prune --before ISO', async () => {
  const a = await logFile();
  const b = await logFile();
  const file = join(dir, 'export.csv');
  const before = new Date(sampleRecord(3).at).toISOString();
  // The CLI takes seconds to start: both at once.
  const [exported, pruned] = await Promise.all([
    heist([
      'audit',
      'export',
      '--audit',
      a.url,
      '--format',
      'csv',
      '--since',
      String(sampleRecord(1).at),
      '--out',
      file,
    ]),
    heist(['audit', 'prune', '--audit', b.url, '--before', before]),
  ]);
  assert.equal(exported.code, 0, exported.err);
  assert.match(exported.err, /exported 7 records/);
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], CSV_COLUMNS.join(','));
  assert.ok(
    lines.slice(1).every((l) => !l.startsWith('main,1,')),
    'since left out seq 1',
  );
  assert.equal(pruned.code, 0, pruned.err);
  assert.match(pruned.out, /pruned 3 records older than .*; 5 left/);
  assert.equal((await verifyAuditRun({ audit: b.url })).ok, true);
});
