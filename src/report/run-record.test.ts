/** @file Tests for the heist.run/v1 schema: valid records pass, bad ones fail with HEIST_ERR_BAD_DATA. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHeistError } from '../core/errors.js';
import { parseRunRecord, readRunRecord, writeRunRecord, type RunRecord } from './run-record.js';
import { sampleRunRecord } from './sample-run.js';

const badData = (e: unknown): boolean => isHeistError(e, 'HEIST_ERR_BAD_DATA');

test('accepts a valid record, from an object or a JSON string, and keeps extra config keys', () => {
  const rec = sampleRunRecord({ config: { budget: 10, epochs: 3, nested: { a: 1 } } });
  const parsed = parseRunRecord(rec);
  assert.deepEqual(parsed, rec);
  assert.equal(parsed.config.epochs, 3);
  assert.deepEqual(parseRunRecord(JSON.stringify(rec)), rec);
});

test('accepts a file target, a round without fitMs, and no optional sections', () => {
  const rec = sampleRunRecord({
    kind: 'extract',
    target: { file: 'models/lr.onnx', inputShape: [4], classes: 3, output: 'probs' },
    rounds: [{ round: 0, queriesUsed: 5, labeledRows: 5, metrics: {}, wallMs: 1 }],
    queries: { budget: 5, used: 5, cached: 0, eval: 0, total: 5 },
    artifacts: {},
    notes: undefined,
  });
  assert.equal(parseRunRecord(rec).kind, 'extract');
});

const broken: Array<[string, (r: RunRecord) => unknown]> = [
  ['wrong schema version', (r) => ({ ...r, schema: 'heist.run/v2' })],
  ['unknown kind', (r) => ({ ...r, kind: 'rob' })],
  ['missing id', (r) => ({ ...r, id: undefined })],
  ['non-ISO startedAt', (r) => ({ ...r, startedAt: 'yesterday' })],
  ['fidelity above 1', (r) => ({ ...r, metrics: { fidelity: 1.5 } })],
  ['non-numeric metric', (r) => ({ ...r, metrics: { fidelity: 0.5, kl: 'low' } })],
  ['negative queries', (r) => ({ ...r, queries: { ...r.queries, cached: -1 } })],
  ['total != used + eval', (r) => ({ ...r, queries: { ...r.queries, total: 1 } })],
  ['used above budget', (r) => ({ ...r, queries: { budget: 10, used: 11, cached: 0, eval: 0, total: 11 } })],
  ['target without url or file', (r) => ({ ...r, target: { inputShape: [2], classes: 2, output: 'probs' } })],
  ['bad output kind', (r) => ({ ...r, target: { ...r.target, output: 'vibes' } })],
  ['round missing wallMs', (r) => ({ ...r, rounds: [{ round: 0, queriesUsed: 1, labeledRows: 1, metrics: {} }] })],
  ['absolute artifact path', (r) => ({ ...r, artifacts: { report: '/etc/passwd' } })],
  ['escaping artifact path', (r) => ({ ...r, artifacts: { substitute: '../x.onnx' } })],
  ['scheme in artifact path', (r) => ({ ...r, artifacts: { report: 'javascript:alert(1)' } })],
  ['not an object', () => 42],
  ['null', () => null],
];

for (const [name, mutate] of broken) {
  test(`rejects: ${name}`, () => {
    assert.throws(() => parseRunRecord(mutate(sampleRunRecord())), badData);
  });
}

test('the error carries the zod issues and names the path', () => {
  try {
    parseRunRecord({ ...sampleRunRecord(), metrics: { accuracy: 2 } });
    assert.fail('should have thrown');
  } catch (e) {
    assert.ok(badData(e));
    assert.match((e as Error).message, /metrics\.accuracy/);
    assert.ok(Array.isArray((e as { details: unknown }).details));
  }
});

test('rejects text that is not JSON', () => {
  assert.throws(() => parseRunRecord('{"schema": '), badData);
});

test('write then read round-trips; write validates; a missing file is BAD_DATA', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'heist-run-'));
  try {
    const rec = sampleRunRecord();
    const path = await writeRunRecord(join(dir, 'nested', 'out'), rec);
    assert.equal(path, join(dir, 'nested', 'out', 'run.json'));
    assert.deepEqual(await readRunRecord(path), rec);
    assert.ok((await readFile(path, 'utf8')).endsWith('}\n'));
    await assert.rejects(writeRunRecord(dir, { ...rec, seed: 1.5 }), badData);
    await assert.rejects(readRunRecord(join(dir, 'missing.json')), badData);
    await writeFile(join(dir, 'bad.json'), '{"schema":"heist.run/v1"}');
    await assert.rejects(readRunRecord(join(dir, 'bad.json')), badData);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
