/**
 * @file Shapiro-Wilk against SciPy: every case of test/fixtures/shapiro-wilk-scipy.json (written by
 * scripts/make-shapiro-fixture.py with scipy.stats.shapiro) within 1e-6 in W and 1e-4 in p (and
 * 1e-3 relative where p < 1e-4; SciPy's 0 is an underflow of float32 and its one negative p, at
 * n = 3, is clamped to 0 here, so those two are checked absolutely), plus the normal quantile and tail helpers at known values.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { normalCdf, normalQuantile, normalUpperTail, shapiroWilk } from './shapiro-wilk.js';

interface Case {
  readonly name: string;
  readonly n: number;
  readonly w: number;
  readonly p: number;
  readonly x: number[];
}
const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/shapiro-wilk-scipy.json', import.meta.url), 'utf8'),
) as { scipy: string; cases: Case[] };

test('the fixture covers every size from 3 to 5000 the task names', () => {
  const sizes = new Set(fixture.cases.map((c) => c.n));
  for (const n of [3, 4, 5, 10, 11, 20, 50, 100, 500, 2000, 5000]) assert.ok(sizes.has(n), `n = ${n}`);
  for (const c of fixture.cases) assert.equal(c.x.length, c.n, c.name);
});

test(`W and p match SciPy ${fixture.scipy} on every fixture case`, () => {
  for (const c of fixture.cases) {
    const r = shapiroWilk(c.x);
    assert.ok(Math.abs(r.w - c.w) <= 1e-6, `${c.name}: W ${r.w} vs SciPy ${c.w}`);
    assert.ok(Math.abs(r.p - c.p) <= 1e-4, `${c.name}: p ${r.p} vs SciPy ${c.p}`);
    if (c.p < 1e-4 && c.p > 1e-37) {
      assert.ok(Math.abs(r.p - c.p) <= 1e-3 * c.p, `${c.name}: p ${r.p} vs SciPy ${c.p} (relative)`);
    }
  }
});

test('double precision stays within SciPy float32 rounding of it (W 3e-5, p 1e-2)', () => {
  for (const c of fixture.cases) {
    const r = shapiroWilk(c.x, { precision: 'double' });
    assert.ok(Math.abs(r.w - c.w) <= 3e-5, `${c.name}: W ${r.w} vs SciPy ${c.w}`);
    assert.ok(Math.abs(r.p - c.p) <= 1e-2, `${c.name}: p ${r.p} vs SciPy ${c.p}`);
  }
});

test('the order of the sample does not matter', () => {
  const c = fixture.cases.find((k) => k.name === 'exponential-100')!;
  const reversed = shapiroWilk([...c.x].reverse());
  const sorted = shapiroWilk([...c.x].sort((a, b) => a - b));
  assert.equal(reversed.w, sorted.w);
  assert.equal(reversed.p, sorted.p);
});

test('a zero-range sample answers W = 1, p = 1 (as SciPy); bad sizes and values are refused', () => {
  assert.deepEqual(shapiroWilk([2, 2, 2, 2]), { w: 1, p: 1 });
  for (const bad of [[1, 2], new Array(5001).fill(0).map((_, i) => i), [1, 2, Number.NaN]]) {
    assert.throws(() => shapiroWilk(bad), { code: 'HEIST_ERR_BAD_DATA' });
  }
});

test('normal quantile and tail at known values', () => {
  const known: [number, number][] = [
    [0.5, 0],
    [0.975, 1.959963984540054],
    [0.001, -3.090232306167813],
    [1e-10, -6.361340902404056],
    [1e-300, -37.0470962993612],
  ];
  for (const [p, z] of known) assert.ok(Math.abs(normalQuantile(p) - z) <= 1e-12 * Math.max(1, Math.abs(z)), `q(${p})`);
  for (const [p, z] of known) if (p > 1e-300) assert.ok(Math.abs(normalCdf(z) - p) <= 1e-8 * p, `cdf(${z})`);
  // Far tail, relative (SciPy's norm.sf): P(Z > 10) = 7.61985302416047e-24, P(Z > 30) = 4.906713927147908e-198.
  assert.ok(Math.abs(normalUpperTail(10) / 7.61985302416047e-24 - 1) < 1e-8);
  assert.ok(Math.abs(normalUpperTail(30) / 4.906713927147908e-198 - 1) < 1e-8);
  assert.equal(normalQuantile(0), Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(normalQuantile(2)));
});
