/**
 * @file `heist bench defenses` as a user runs it, on digits-mlp at 200 queries with a four-config
 * grid (test/fixtures/defense-grids/small.yaml): the table, the heatmap and matrix.json are written;
 * the same seed gives the same numbers in a fresh folder; a deleted cell file is the only cell
 * recomputed on a rerun, with the same numbers; other settings in the same folder are refused; and
 * a grid naming an unknown defense fails with HEIST_ERR_BAD_CONFIG naming the file and the key.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from '../../src/datasets/paths.js';
import type { DefenseMatrix } from '../../src/runs/defense-matrix-run.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-bench-defenses-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const grid = join(repoRoot, 'test/fixtures/defense-grids/small.yaml');

function heist(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/heist.js'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const bench = (out: string, ...extra: string[]) =>
  heist('bench', 'defenses', '--scenario', 'digits-mlp', '--budget', '200', '--grid', grid, '--out', out, ...extra);

const readMatrix = (out: string): DefenseMatrix => JSON.parse(readFileSync(join(out, 'matrix.json'), 'utf8'));

/** The numbers of every cell and configuration, without wall times. */
function numbers(m: DefenseMatrix): unknown {
  return { configs: m.configs, cells: m.cells.map(({ wallMs: _w, ...rest }) => rest) };
}

const a = join(dir, 'a');

test('the matrix: table, heatmap, cells; the same seed gives the same numbers', () => {
  const r = bench(a);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /resumed 0 of 12 cells/);
  const m = readMatrix(a);
  assert.deepEqual(
    m.configs.map((c) => c.name),
    ['none', 'label-only', 'reverse-sigmoid', 'prada'],
  );
  assert.deepEqual(m.settings.attacks, ['soft-pool', 'hard-pool', 'soft-random']);
  assert.equal(m.cells.length, 12);
  const cell = (config: string, attack: string) => m.cells.find((c) => c.config === config && c.attack === attack)!;
  const config = (name: string) => m.configs.find((c) => c.name === name)!;
  for (const c of m.cells) {
    assert.ok(c.fidelity !== null && c.fidelity >= 0 && c.fidelity <= 1, `${c.config} x ${c.attack}`);
    assert.equal(c.queries, 200);
  }
  // The baseline: nothing changes for honest users, and a pool clone is close to the victim.
  assert.equal(config('none').top1Kept, 1);
  assert.equal(config('none').meanL1, 0);
  assert.ok(cell('none', 'soft-pool').fidelity! > 0.85);
  assert.equal(cell('none', 'soft-pool').detectionDelay, null);
  // label-only serves labels: soft attacks fall back to hard, labels are kept, L1 > 0.
  assert.equal(cell('label-only', 'soft-pool').labels, 'hard');
  assert.equal(config('label-only').top1Kept, 1);
  assert.ok(config('label-only').meanL1 > 0);
  // reverse sigmoid keeps honest labels here and hurts the soft-label clone far more than the hard one.
  assert.equal(config('reverse-sigmoid').changesLabels, true);
  assert.ok(cell('reverse-sigmoid', 'soft-pool').fidelity! < cell('none', 'soft-pool').fidelity! - 0.3);
  assert.ok(cell('reverse-sigmoid', 'hard-pool').fidelity! > cell('none', 'hard-pool').fidelity! - 0.05);
  // prada flags the attacker: a delay in attacker rows, within the budget.
  const delay = cell('prada', 'soft-pool').detectionDelay;
  assert.ok(delay !== null && delay > 0 && delay <= 200, `delay ${delay}`);
  assert.equal(cell('prada', 'soft-pool').detectedBy, 'prada');

  const md = readFileSync(join(a, 'matrix.md'), 'utf8');
  assert.match(md, /\| config \| honest acc \| top-1 kept \| L1 \|/);
  assert.match(md, /soft-pool fidelity \| soft-pool acc \| soft-pool delay/);
  for (const name of ['none', 'label-only', 'reverse-sigmoid', 'prada'])
    assert.match(md, new RegExp(`^\\| ${name} \\|`, 'm'));
  assert.match(md, /never/);
  assert.match(md, /^- attack `soft-random`: uniform random inputs/m);
  const svg = readFileSync(join(a, 'heatmap.svg'), 'utf8');
  assert.ok(svg.startsWith('<svg'), svg.slice(0, 40));
  assert.match(svg, /soft-random/);
  assert.ok(!existsSync(join(a, 'runs')), 'run folders are removed unless --keep-runs');

  const b = join(dir, 'b');
  const again = bench(b);
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(numbers(readMatrix(b)), numbers(m));
});

test("the recipe attacks: ActiveThief, Papernot et al.'s Jacobian augmentation and Heist's default, each over its own rounds", () => {
  const out = join(dir, 'recipes');
  const r = bench(out, '--attacks', 'jacobian-augmentation,active-learning,heist');
  assert.equal(r.code, 0, r.err);
  const m = readMatrix(out);
  assert.deepEqual(m.settings.attacks, ['jacobian-augmentation', 'active-learning', 'heist']);
  assert.equal(m.cells.length, 12);
  const cell = (config: string, attack: string) => m.cells.find((c) => c.config === config && c.attack === attack)!;
  for (const c of m.cells) assert.equal(c.queries, 200, `${c.config} x ${c.attack}`);
  for (const c of m.cells.filter((x) => x.attack === 'jacobian-augmentation')) assert.equal(c.labels, 'hard');
  // Measured 0.920, 0.958 and 0.953 (seed 0).
  assert.ok(cell('none', 'jacobian-augmentation').fidelity! > 0.85);
  assert.ok(cell('none', 'active-learning').fidelity! > 0.9);
  assert.ok(cell('none', 'heist').fidelity! > 0.9);
  assert.equal(cell('none', 'jacobian-augmentation').detectionDelay, null);
  assert.ok(cell('prada', 'jacobian-augmentation').detectionDelay !== null, 'PRADA flags the Jacobian attacker');
  assert.match(
    readFileSync(join(out, 'matrix.md'), 'utf8'),
    /^- attack `jacobian-augmentation`: Papernot et al\. 2017/m,
  );
});

test('resume: only a deleted cell is recomputed, with the same numbers; other settings are refused', () => {
  const before = readMatrix(a);
  const cells = join(a, 'cells');
  const gone = 'reverse-sigmoid__hard-pool.json';
  const mtimes = new Map(readdirSync(cells).map((f) => [f, statSync(join(cells, f)).mtimeMs]));
  rmSync(join(cells, gone));
  const r = bench(a);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /resumed 11 of 12 cells/);
  assert.match(r.out, /computed 1 cells, reused 11/);
  for (const [f, t] of mtimes) if (f !== gone) assert.equal(statSync(join(cells, f)).mtimeMs, t, `${f} rewritten`);
  assert.ok(existsSync(join(cells, gone)));
  assert.deepEqual(numbers(readMatrix(a)), numbers(before));

  const other = bench(a, '--seed', '1');
  assert.equal(other.code, 2);
  assert.match(other.err, /HEIST_ERR_RESUME/);
  assert.match(other.err, /seed 0, not 1/);
});

test('a grid naming an unknown defense: HEIST_ERR_BAD_CONFIG naming the file and the key', () => {
  const bad = join(repoRoot, 'test/fixtures/defense-grids/unknown-defense.yaml');
  const r = heist(
    'bench',
    'defenses',
    '--scenario',
    'digits-mlp',
    '--budget',
    '10',
    '--grid',
    bad,
    '--out',
    join(dir, 'bad'),
  );
  assert.equal(r.code, 2);
  assert.match(r.err, /HEIST_ERR_BAD_CONFIG/);
  assert.match(r.err, /unknown-defense\.yaml: configs\.1\.defenses\.0: unknown defense "no-such-defense"/);
  assert.ok(!existsSync(join(dir, 'bad', 'cells')), 'nothing ran');
});
