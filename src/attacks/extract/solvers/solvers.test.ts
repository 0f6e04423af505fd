/** @file The numeric pieces behind retraining, rounded and MLP equation solving: L-BFGS, gradients, soft fits, rounding detection. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../../../core/errors.js';
import { createRng } from '../../../core/rng.js';
import { tensor } from '../../../core/tensor.js';
import { randomLinearModel } from '../../../models/linear.js';
import { localOracle } from '../../../oracle/local.js';
import { designRows } from './design-rows.js';
import { lbfgs } from './lbfgs.js';
import { mlpObjective, mlpUnknowns } from './mlp-fit.js';
import { detectDecimals, roundedEquationSolving, solveRounded } from '../linear/equation-solving-rounded.js';
import { fitSoftmax, softmaxObjective } from './softmax-fit.js';

/** What `serve --round` serves (src/defenses/round.ts; attacks may not import defenses). */
function roundScoresForTest(v: Float32Array, decimals: number): Float32Array {
  return v.map((p) => Math.round(p * 10 ** decimals) / 10 ** decimals);
}

function gradCheck(f: (t: Float64Array, g: Float64Array) => number, theta: Float64Array, probes: number[]): number {
  const g = new Float64Array(theta.length);
  f(theta, g);
  let worst = 0;
  for (const i of probes) {
    const h = 1e-6;
    const p = Float64Array.from(theta);
    const m = Float64Array.from(theta);
    p[i] += h;
    m[i] -= h;
    const fd = (f(p, new Float64Array(theta.length)) - f(m, new Float64Array(theta.length))) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - g[i]) / Math.max(1e-6, Math.abs(fd)));
  }
  return worst;
}

test('L-BFGS minimises the Rosenbrock function', () => {
  const r = lbfgs(
    (t, g) => {
      const [x, y] = t;
      g[0] = -2 * (1 - x) - 400 * x * (y - x * x);
      g[1] = 200 * (y - x * x);
      return (1 - x) ** 2 + 100 * (y - x * x) ** 2;
    },
    Float64Array.from([-1.2, 1]),
    { maxIterations: 500 },
  );
  assert.ok(
    Math.abs(r.theta[0] - 1) < 1e-5 && Math.abs(r.theta[1] - 1) < 1e-5,
    `${r.theta} after ${r.iterations} (${r.reason})`,
  );
});

test('analytic gradients match finite differences (softmax hard/soft, MLP cross-entropy/logits)', () => {
  const rng = createRng(2);
  const n = 7;
  const [d, h, k] = [5, 4, 3];
  const x = Float64Array.from({ length: n * d }, () => rng.normal());
  const soft = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const e = [0, 1, 2].map(() => Math.exp(rng.normal()));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, c) => {
      soft[i * k + c] = v / s;
    });
  }
  const labels = Int32Array.from({ length: n }, () => rng.int(k));
  const lin = Float64Array.from({ length: d * k + k }, () => rng.normal());
  const probes = Array.from({ length: 12 }, () => rng.int(d * k + k));
  assert.ok(gradCheck(softmaxObjective({ x, n, d, k, labels }, 0.1), lin, probes) < 1e-5);
  assert.ok(gradCheck(softmaxObjective({ x, n, d, k, soft }, 0), lin, probes) < 1e-5);
  const P = mlpUnknowns({ d, h, k });
  assert.equal(P, 5 * 4 + 4 + 4 * 3 + 3);
  const theta = Float64Array.from({ length: P }, () => rng.normal());
  const mprobes = Array.from({ length: P }, (_, i) => i);
  assert.ok(gradCheck(mlpObjective(x, soft, n, { d, h, k }, 'cross-entropy'), theta, mprobes) < 1e-4);
  assert.ok(gradCheck(mlpObjective(x, soft, n, { d, h, k }, 'logits'), theta, mprobes) < 1e-4);
});

test('soft-target softmax fit recovers the weights; the fit maps standardised weights back to input units', () => {
  const truth = randomLinearModel(createRng(4), 6, 3, { scale: 2 });
  const n = 200;
  const x = designRows(truth.info, n, 'uniform', createRng(5));
  const p = (truth.predict(tensor(x, [n, 6])) as { scores?: { data: Float32Array } }).scores!.data;
  const fit = fitSoftmax(
    { x, n, d: 6, k: 3, soft: Float64Array.from(p) },
    { maxIterations: 2000, gradTolerance: 1e-12 },
  );
  let worst = 0;
  for (let j = 0; j < 6; j++)
    for (let c = 0; c < 3; c++)
      worst = Math.max(
        worst,
        Math.abs(fit.weights.weights[j * 3 + c] - (truth.weights[j * 3 + c] - truth.weights[j * 3])),
      );
  assert.ok(worst < 1e-3, `max weight error ${worst}`);
});

test('rounding detection and rounded equation solving', async () => {
  assert.equal(detectDecimals(Float32Array.from([0.12, 0.88, 0])), 2);
  assert.equal(detectDecimals(Float32Array.from([0.1235, 0.8765])), 4);
  assert.equal(detectDecimals(Float32Array.from([0.12345678, 0.87654322])), undefined);
  const truth = randomLinearModel(createRng(6), 8, 4, { scale: 1.5 });
  const n = 400;
  const x = designRows(truth.info, n, 'uniform', createRng(7));
  const p = (truth.predict(tensor(x, [n, 8])) as { scores?: { data: Float32Array } }).scores!.data;
  const errs: number[] = [];
  for (const D of [undefined, 4, 2]) {
    const s = D === undefined ? p : roundScoresForTest(p, D);
    const sol = solveRounded(x, s, n, 8, 4, detectDecimals(s));
    assert.equal(sol.decimals, D);
    let worst = 0;
    for (let j = 0; j < 8; j++)
      for (let c = 0; c < 4; c++)
        worst = Math.max(
          worst,
          Math.abs(sol.weights.weights[j * 4 + c] - (truth.weights[j * 4 + c] - truth.weights[j * 4])),
        );
    errs.push(worst);
  }
  assert.ok(errs[0] < 1e-4 && errs[1] < 2e-2 && errs[2] < 0.5, `weight errors ${errs}`);
  assert.ok(errs[0] < errs[1] && errs[1] < errs[2], 'coarser rounding, larger error');
  const labelOnly = randomLinearModel(createRng(1), 8, 4, { output: 'label' });
  await assert.rejects(
    roundedEquationSolving.extract(
      localOracle({ info: { ...labelOnly.info, output: 'probs' }, predict: (q) => labelOnly.predict(q) }),
      { rng: createRng(1), budget: 50 },
    ),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_REQUIREMENTS'),
  );
});
