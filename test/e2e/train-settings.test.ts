/**
 * @file `heist steal` with HEIST_TRAIN_WORKERS: a bad value, or workers for an engine that cannot
 * split its mini-batches, is refused with HEIST_ERR_BAD_CONFIG before the first paid query; a
 * steal split across 2 workers repeats exactly (the same seed, the same metrics).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelsDir } from '../../src/datasets/paths.js';
import { heist } from '../helpers/cli.js';

function withWorkers<T>(value: string, f: () => T): T {
  const keep = process.env.HEIST_TRAIN_WORKERS;
  process.env.HEIST_TRAIN_WORKERS = value;
  try {
    return f();
  } finally {
    if (keep === undefined) delete process.env.HEIST_TRAIN_WORKERS;
    else process.env.HEIST_TRAIN_WORKERS = keep;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'heist-train-settings-'));
const steal = (out: string, ...extra: string[]) =>
  heist(
    'steal',
    '--target',
    join(modelsDir, 'digits-mlp.onnx'),
    '--pool',
    'digits-mlp',
    '--eval',
    'digits-mlp',
    '--budget',
    '100',
    '--out',
    join(dir, out),
    '--yes',
    ...extra,
  );

test('a bad HEIST_TRAIN_WORKERS, or workers for tfjs-wasm, is refused before anything is bought', () => {
  for (const [value, extra, message] of [
    ['zero', [], /HEIST_TRAIN_WORKERS must be a positive integer/],
    ['2', ['--engine', 'tfjs-wasm'], /cannot split mini-batches/],
  ] as const) {
    const out = `refused-${value}`;
    const r = withWorkers(value, () => steal(out, ...extra));
    assert.notEqual(r.code, 0);
    assert.match(r.err, /HEIST_ERR_BAD_CONFIG/);
    assert.match(r.err, message);
    assert.ok(!existsSync(join(dir, out, 'transcript.jsonl')), 'no query was paid');
  }
});

test('a steal split across 2 workers repeats exactly', () => {
  const metrics = ['a', 'b'].map((out) => {
    const r = withWorkers('2', () => steal(out));
    assert.equal(r.code, 0, r.err);
    return JSON.parse(readFileSync(join(dir, out, 'run.json'), 'utf8')).metrics;
  });
  assert.deepEqual(metrics[0], metrics[1]);
  assert.ok(metrics[0].fidelity > 0.85, `fidelity ${metrics[0].fidelity}`);
  rmSync(dir, { recursive: true, force: true });
});
