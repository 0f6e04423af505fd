/** The `heist` binary as a user runs it: help on every command, clear errors for bad flags, train and report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelsDir, repoRoot } from '../../src/datasets/paths.js';
import { defenses } from '../../src/defenses/index.js';

function heist(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/heist.js'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('--help on the program and on every command', () => {
  const top = heist('--help');
  assert.equal(top.code, 0);
  for (const cmd of [
    'demo',
    'steal',
    'train',
    'serve',
    'keys',
    'profile',
    'audit',
    'report',
    'list',
    'probe',
    'scan-web',
    'verify',
    'bench',
  ]) {
    assert.match(top.out, new RegExp(`\\b${cmd}\\b`));
    const h = heist(cmd, '--help');
    assert.equal(h.code, 0, `${cmd} --help`);
    assert.match(h.out, /Usage: heist/);
  }
  assert.match(heist('steal', '--help').out, /--resume/);
  assert.match(heist('verify', 'watermark', '--help').out, /--watermark-rate/);
  assert.match(heist('audit', 'replay', '--help').out, /--detector/);
  assert.match(heist('bench', 'defenses', '--help').out, /--grid/);
});

test('bad flags get a clear message and a non-zero exit', () => {
  const cases: [string[], RegExp][] = [
    [['steal', '--target', 'x.onnx', '--budget', 'abc', '--out', 'o'], /positive integer/],
    [['steal', '--target', 'x.onnx', '--budget', '-5', '--out', 'o'], /positive integer|unknown option/],
    [['steal', '--budget', '10', '--out', 'o'], /--target/],
    [['steal', '--target', 'x.onnx', '--budget', '10', '--out', 'o', '--labels', 'medium'], /soft, hard/],
    [['steal', '--target', 'x.onnx', '--budget', '10', '--out', 'o', '--target-fidelity', '1.5'], /\(0, 1\]/],
    [['serve', '--model', 'm.onnx', '--port', '70000'], /port/],
    [['train', '--scenario', 'mnist-cnn', '--out', 'x.onnx', '--arch', 'svm'], /logreg, mlp, cnn/],
    [['frobnicate'], /unknown command/],
    [
      ['steal', '--target', 'x.onnx', '--budget', '10', '--out', 'o', '--strategy', 'jbda'],
      /unknown strategy "jbda"; expected one of random, pool/,
    ],
    [
      ['serve', '--model', 'm.onnx', '--defense', 'noise'],
      new RegExp(`unknown defense "noise"; expected one of ${defenses.names().join(', ')}`),
    ],
    [['serve', '--model', 'm.onnx', '--defense', 'round={decimals:2}'], /must be a JSON object/],
    [['list', 'wands'], /HEIST_ERR_BAD_CONFIG: unknown role "wands"/],
  ];
  for (const [args, message] of cases) {
    const r = heist(...args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.err, message, args.join(' '));
  }
});

test('heist list prints every registry, read from the registries', () => {
  const r = heist('list');
  assert.equal(r.code, 0, r.err);
  for (const role of [
    'recipes',
    'strategies',
    'surrogates',
    'training-engines',
    'extractors',
    'text-extractors',
    'defenses',
    'wire-formats',
    'reporters',
    'audit-stores',
    'limit-stores',
  ]) {
    assert.match(r.out, new RegExp(`^${role}$`, 'm'));
  }
  for (const name of [
    'heist',
    'activethief-pal-2020',
    'random',
    'pool',
    'k-center',
    'cnn',
    'onnxruntime',
    'tfjs-wasm',
    'equation-solving',
    'llm-final-layer',
    'round',
    'heist-v1',
    'html',
    'sqlite',
    'postgres',
    'redis',
  ]) {
    assert.match(r.out, new RegExp(`^  ${name}: `, 'm'));
  }
  // The section lists exactly the registry's entries, in its order, each with its paper.
  const section = heist('list', 'defenses').out;
  assert.deepEqual(
    [...section.matchAll(/^ {2}([a-z0-9-]+): /gm)].map((m) => m[1]),
    defenses.names(),
  );
  assert.equal([...section.matchAll(/^ {4}paper: /gm)].length, defenses.entries().filter((e) => e.paper).length);
});

test('errors from the run carry their HEIST_ERR code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-cli-'));
  const missing = heist('steal', '--target', join(dir, 'nope.onnx'), '--budget', '10', '--out', join(dir, 'o'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /HEIST_ERR_BAD_CONFIG/);
  const pool = heist(
    'steal',
    '--target',
    join(modelsDir, 'digits-mlp.onnx'),
    '--budget',
    '10',
    '--pool',
    'imagenet',
    '--out',
    join(dir, 'o2'),
  );
  assert.match(pool.err, /HEIST_ERR_BAD_CONFIG: unknown pool "imagenet"/);
  const report = heist('report', join(dir, 'nothing.json'));
  assert.match(report.err, /HEIST_ERR_BAD_DATA/);
});

test('train writes an ONNX victim that onnxruntime reproduces; steal and report run from the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-cli-'));
  const model = join(dir, 'digits-logreg.onnx');
  const t = heist('train', '--dataset', 'digits', '--arch', 'logreg', '--epochs', '30', '--out', model);
  assert.equal(t.code, 0, t.err);
  const m = /test accuracy (\d\.\d+).*max \|dp\| ([\d.e+-]+)/.exec(t.out);
  assert.ok(m, t.out);
  assert.ok(Number(m[1]) > 0.9, `accuracy ${m[1]}`);
  assert.ok(Number(m[2]) <= 1e-5, `onnx parity ${m[2]}`);

  const out = join(dir, 'run');
  const s = heist(
    'steal',
    '--target',
    model,
    '--budget',
    '100',
    '--pool',
    'digits',
    '--eval',
    'digits-mlp',
    '--arch',
    'logreg',
    '--out',
    out,
  );
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /fidelity 0\.\d{4}/);
  rmSync(join(out, 'report.html'));
  const r = heist('report', join(out, 'run.json'));
  assert.equal(r.code, 0, r.err);
  assert.ok(statSync(join(out, 'report.html')).size > 1000);
});
