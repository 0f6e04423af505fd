/**
 * @file `heist bench strategies` as a user runs it, on digits-mlp at 50 and 150 queries, 2 seeds:
 * curves.md, curves.svg and curves.json are written with a mean and spread per strategy and budget;
 * pool-based strategies share their first (random) round; the same seeds give the same numbers in
 * a fresh folder; a deleted cell file is the only run recomputed, with the same numbers; other
 * settings in the same folder are refused with HEIST_ERR_RESUME; an unknown strategy is a usage error;
 * `--ensemble 2` trains every cell's substitute as two networks, named in the table.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CurveCell, StrategySummary } from '../../src/runs/strategy-curves-table.js';
import { heist } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-bench-strategies-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const STRATEGIES = 'pool,margin,k-center';
const bench = (out: string, ...extra: string[]) =>
  heist(
    'bench',
    'strategies',
    '--scenario',
    'digits-mlp',
    '--budgets',
    '50,150',
    '--seeds',
    '2',
    '--strategies',
    STRATEGIES,
    '--out',
    out,
    ...extra,
  );

interface CurvesFile {
  schema: string;
  summary: StrategySummary[];
  cells: CurveCell[];
}
const readCurves = (out: string): CurvesFile => JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8'));
const numbers = (c: CurvesFile) => c.cells.map(({ wallMs: _w, ...rest }) => rest);

const a = join(dir, 'a');

test('curves for every strategy and seed, with mean and spread; the same seeds give the same numbers', () => {
  const r = bench(a);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /resumed 0 of 6 cells/);
  const c = readCurves(a);
  assert.equal(c.schema, 'heist.strategy-curves/v1');
  assert.deepEqual(
    c.summary.map((s) => s.strategy),
    STRATEGIES.split(','),
  );
  for (const s of c.summary) {
    assert.deepEqual(
      s.points.map((p) => p.queries),
      [50, 150],
    );
    for (const p of s.points) {
      assert.equal(p.n, 2);
      assert.ok(p.min <= p.mean && p.mean <= p.max, `${s.strategy} ${p.queries}`);
      // A pool clone of digits-mlp is well above chance at 50 queries.
      assert.ok(p.mean > 0.7, `${s.strategy} at ${p.queries}: ${p.mean}`);
    }
  }
  // Before there is a substitute, every pool-based strategy buys the same seeded draw.
  const first = (strategy: string, seed: number) =>
    c.cells.find((x) => x.strategy === strategy && x.seed === seed)!.points[0].fidelity;
  for (const seed of [0, 1]) {
    assert.equal(first('margin', seed), first('pool', seed));
    assert.equal(first('k-center', seed), first('pool', seed));
  }
  const md = readFileSync(join(a, 'curves.md'), 'utf8');
  assert.match(md, /\| margin \| 0\.\d{4} ± 0\.\d{4}/);
  assert.match(md, /Difference of the mean from `pool`/);
  assert.match(readFileSync(join(a, 'curves.svg'), 'utf8'), /^<svg/);

  const b = join(dir, 'b');
  assert.equal(bench(b).code, 0);
  assert.deepEqual(numbers(readCurves(b)), numbers(c));
});

test('an interrupted grid resumes: only the missing run is recomputed, with the same numbers', () => {
  const before = numbers(readCurves(a));
  rmSync(join(a, 'cells', 'margin__seed1.json'));
  const r = bench(a);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /resumed 5 of 6 cells/);
  assert.match(r.out, /computed 1 runs, reused 5/);
  assert.deepEqual(numbers(readCurves(a)), before);
});

test('other settings in the same folder are refused; an unknown strategy is a usage error', () => {
  const r = bench(a, '--labels', 'hard');
  assert.notEqual(r.code, 0);
  assert.match(r.err, /HEIST_ERR_RESUME/);
  const u = heist(
    'bench',
    'strategies',
    '--scenario',
    'digits-mlp',
    '--strategies',
    'pool,nope',
    '--out',
    join(dir, 'c'),
  );
  assert.notEqual(u.code, 0);
  assert.match(u.err, /unknown strategy "nope"/);
});

test('recipes run as rows of their own, with their own labels and schedule, measured at the budgets', () => {
  const out = join(dir, 'recipes');
  const r = heist(
    'bench',
    'strategies',
    '--scenario',
    'digits-mlp',
    '--budgets',
    '50,150',
    '--seeds',
    '1',
    '--strategies',
    'pool',
    '--recipes',
    'heist,copycat-correia-2018',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.err);
  const c = readCurves(out);
  assert.deepEqual(
    c.summary.map((s) => s.strategy),
    ['pool', 'recipe:heist', 'recipe:copycat-correia-2018'],
  );
  const cell = (row: string) => c.cells.find((x) => x.strategy === row)!;
  // heist's standard schedule adds a round at 100; both recipe rows are measured at 50 and 150.
  assert.deepEqual(
    cell('recipe:heist').points.map((p) => p.queries),
    [50, 100, 150],
  );
  for (const s of c.summary)
    assert.deepEqual(
      s.points.map((p) => p.queries),
      [50, 150],
    );
  // The default (k-center) starts from the same seeded draw as pool; Copycat trains on labels only.
  assert.equal(cell('recipe:heist').points[0].fidelity, cell('pool').points[0].fidelity);
  assert.notEqual(cell('recipe:copycat-correia-2018').points[0].fidelity, cell('pool').points[0].fidelity);
});

test('--ensemble 2: each cell trains two networks; the table says so; the folder of single networks refuses it', () => {
  const r = bench(a, '--ensemble', '2');
  assert.notEqual(r.code, 0);
  assert.match(r.err, /HEIST_ERR_RESUME/);
  const out = join(dir, 'ensemble');
  const e = heist(
    'bench',
    'strategies',
    '--scenario',
    'digits-mlp',
    '--budgets',
    '50',
    '--seeds',
    '1',
    '--strategies',
    'pool',
    '--ensemble',
    '2',
    '--out',
    out,
  );
  assert.equal(e.code, 0, e.err);
  assert.match(readFileSync(join(out, 'curves.md'), 'utf8'), /each substitute an ensemble of 2/);
  const pair = readCurves(out).cells[0].points[0].fidelity;
  const single = readCurves(a).cells.find((x) => x.strategy === 'pool' && x.seed === 0)!.points[0].fidelity;
  // The same 50 bought rows, another substitute: two members from their own seeds, averaged.
  assert.ok(pair > 0.7, `ensemble of 2 at 50 queries: ${pair}`);
  assert.notEqual(pair, single);
});
