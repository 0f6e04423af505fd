import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { binomialInterval, binomialUpperTail, logBinomialUpperTail, logGamma } from './binomial.js';

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/binomial-scipy.json', import.meta.url), 'utf8'),
) as {
  tails: { n: number; k: number; p: number; logsf: number; sf: number }[];
  quantiles: { n: number; p: number; lo: number; hi: number }[];
};

test('log Gamma matches factorials', () => {
  let f = 0;
  for (let n = 1; n <= 170; n++) {
    f += Math.log(n);
    assert.ok(Math.abs(logGamma(n + 1) - f) <= 1e-12 * Math.max(1, f), `lgamma(${n + 1})`);
  }
  assert.ok(Math.abs(logGamma(0.5) - Math.log(Math.sqrt(Math.PI))) < 1e-13);
});

test('upper tails match SciPy binom.logsf within 1e-9 relative', () => {
  for (const c of fixture.tails) {
    const got = logBinomialUpperTail(c.n, c.k, c.p);
    assert.ok(
      Math.abs(got - c.logsf) <= 1e-9 * Math.max(1, Math.abs(c.logsf)),
      `n=${c.n} k=${c.k} p=${c.p}: ${got} vs SciPy ${c.logsf}`,
    );
    if (c.sf > 1e-300) assert.ok(Math.abs(binomialUpperTail(c.n, c.k, c.p) - c.sf) <= 1e-9 * c.sf + 1e-15);
  }
});

test('99% acceptance intervals match SciPy binom.ppf', () => {
  for (const c of fixture.quantiles)
    assert.deepEqual(binomialInterval(c.n, c.p, 0.99), [c.lo, c.hi], `n=${c.n} p=${c.p}`);
});

test('tails far below float64 stay finite in log space', () => {
  const l = logBinomialUpperTail(2000, 1000, 1 / 9);
  assert.ok(Number.isFinite(l) && l < -745, `${l}: below the smallest float64, yet finite`);
  assert.equal(logBinomialUpperTail(10, 11, 0.5), Number.NEGATIVE_INFINITY);
  assert.equal(logBinomialUpperTail(10, 0, 0.5), 0);
});
