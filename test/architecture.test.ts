/**
 * Architecture rules that a linter would otherwise enforce (docs/architecture.md): only
 * src/backends/ imports ML and linear-algebra packages, randomness comes from core/rng.ts, library
 * code does not print, and core/ stays free of I/O.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../src/datasets/paths.js';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = sources(join(repoRoot, 'src')).map((p) => ({ path: relative(repoRoot, p), text: readFileSync(p, 'utf8') }));

test('only src/backends/ imports onnxruntime, tfjs, onnx-proto or linear-algebra packages', () => {
  const ml = /from '(onnxruntime-node|onnxruntime-common|@tensorflow\/[^']+|onnx-proto|ml-matrix)'/;
  const offenders = files.filter((f) => !f.path.startsWith('src/backends/') && ml.test(f.text)).map((f) => f.path);
  assert.deepEqual(offenders, []);
});

test('randomness comes only from the seeded Rng; library code never prints', () => {
  assert.deepEqual(files.filter((f) => f.path !== 'src/core/rng.ts' && /Math\.random\(/.test(f.text)).map((f) => f.path), []);
  const printing = files.filter((f) => !f.path.startsWith('src/cli/') && /console\.(log|error|warn|info)\(/.test(f.text)).map((f) => f.path);
  assert.deepEqual(printing, []);
});

test('core/ has no I/O and imports nothing outside core/', () => {
  for (const f of files.filter((x) => x.path.startsWith('src/core/'))) {
    for (const m of f.text.matchAll(/from '([^']+)'/g)) {
      const spec = m[1];
      const allowed = spec.startsWith('./') || spec === 'node:crypto';
      assert.ok(allowed, `${f.path} imports ${spec}`);
    }
  }
});

test('attacks and defenses never import each other', () => {
  for (const f of files) {
    if (f.path.startsWith('src/attacks/')) assert.ok(!/from '\.\.\/(\.\.\/)?defenses\//.test(f.text), f.path);
    if (f.path.startsWith('src/defenses/')) assert.ok(!/from '\.\.\/(\.\.\/)?attacks\//.test(f.text), f.path);
  }
});
