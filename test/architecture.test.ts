/**
 * Architecture rules (docs/architecture.md): the layer table of docs/layers.json (no import runs up
 * a layer, no import circle between files or between folders, attacks/ and defenses/ never import
 * each other), only src/backends/ imports ML and linear-algebra packages, randomness comes from
 * core/rng.ts, library code does not print, and core/ stays free of I/O and packages.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../src/datasets/paths.js';
import {
  type SourceFile,
  findCycles,
  importGraph,
  layerViolations,
  renderLayerTable,
  type LayerRow,
} from './helpers/layers.js';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files: SourceFile[] = sources(join(repoRoot, 'src')).map((p) => ({
  path: relative(repoRoot, p),
  text: readFileSync(p, 'utf8'),
}));
const layers = (JSON.parse(readFileSync(join(repoRoot, 'docs/layers.json'), 'utf8')) as { layers: LayerRow[] }).layers;

test('docs/architecture.md shows exactly the layer table of docs/layers.json', () => {
  const doc = readFileSync(join(repoRoot, 'docs/architecture.md'), 'utf8');
  const m = /<!-- layers:begin -->\n([\s\S]*?)<!-- layers:end -->/.exec(doc);
  assert.ok(m, 'docs/architecture.md needs a <!-- layers:begin --> ... <!-- layers:end --> block');
  assert.equal(m[1], renderLayerTable(layers), 'regenerate the table in docs/architecture.md from docs/layers.json');
});

test('every folder of src/ has a layer', () => {
  const folders = new Set(files.map((f) => f.path.split('/')[1]).filter((x) => !x.endsWith('.ts')));
  const known = new Set(layers.map((l) => l.folder));
  assert.deepEqual(
    [...folders].filter((f) => !known.has(f)),
    [],
  );
});

test('no import runs up a layer, and attacks/ and defenses/ never import each other', () => {
  assert.deepEqual(layerViolations(importGraph(files), layers), []);
});

test('no import circle between files, nor between folders', () => {
  const graph = importGraph(files);
  assert.deepEqual(findCycles(graph.files), [], 'file circles');
  assert.deepEqual(findCycles(graph.folders), [], 'folder circles');
});

test('the check catches an upward import and a circle', () => {
  const planted: SourceFile[] = [
    { path: 'src/core/a.ts', text: "import { x } from '../runs/b.js';\n" },
    { path: 'src/runs/b.ts', text: "import type { y } from '../core/a.js';\n" },
    { path: 'src/attacks/c.ts', text: "export { z } from '../defenses/d.js';\n" },
    { path: 'src/defenses/d.ts', text: '' },
  ];
  const g = importGraph(planted);
  assert.deepEqual(layerViolations(g, layers).sort(), [
    'src/attacks/c.ts -> src/defenses/d.ts (attacks/ and defenses/ never import each other)',
    'src/core/a.ts -> src/runs/b.ts (layer 0 imports layer 6)',
  ]);
  assert.equal(findCycles(g.files).length, 1);
});

test('only src/backends/ imports onnxruntime, tfjs, onnx-proto or linear-algebra packages', () => {
  const ml = /from '(onnxruntime-node|onnxruntime-common|@tensorflow\/[^']+|onnx-proto|ml-matrix)'/;
  const offenders = files.filter((f) => !f.path.startsWith('src/backends/') && ml.test(f.text)).map((f) => f.path);
  assert.deepEqual(offenders, []);
});

test('randomness comes only from the seeded Rng; library code never prints', () => {
  assert.deepEqual(
    files.filter((f) => f.path !== 'src/core/rng.ts' && /Math\.random\(/.test(f.text)).map((f) => f.path),
    [],
  );
  const printing = files
    .filter((f) => !f.path.startsWith('src/cli/') && /console\.(log|error|warn|info)\(/.test(f.text))
    .map((f) => f.path);
  assert.deepEqual(printing, []);
});

test('core/ has no I/O and imports nothing outside core/', () => {
  for (const f of files.filter((x) => x.path.startsWith('src/core/'))) {
    for (const m of f.text.matchAll(/from '([^']+)'/g)) {
      const spec = m[1];
      const inside = spec.startsWith('./') && join(dirname(f.path), spec).startsWith('src/core/');
      assert.ok(inside || spec === 'node:crypto', `${f.path} imports ${spec}`);
    }
  }
});
