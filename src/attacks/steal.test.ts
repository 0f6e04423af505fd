/**
 * steal()'s evaluation buy: given as a function, it starts when the first fit starts (after the first
 * round's attack queries, so it never takes their concurrency slots) and runs beside that fit; and
 * when a fit fails while it is still buying, steal() rejects only once those queries have settled,
 * so the caller never closes the client (and its transcript) under a paid answer in flight.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOnnxModel } from '../backends/onnx-model.js';
import { createRng } from '../core/rng.js';
import { modelsDir } from '../datasets/paths.js';
import { type EvaluationSet, buyEvaluationLabels } from '../eval/evaluate.js';
import { localOracle } from '../oracle/local.js';
import type { Oracle } from '../oracle/types.js';
import { resolveEval, resolvePool } from '../runs/data-sources.js';
import { createSurrogate } from '../surrogates/index.js';
import type { Surrogate } from '../surrogates/types.js';
import { planSteal } from './plan.js';
import { steal } from './steal.js';

async function setup(events: string[]) {
  const victim = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
  const inner = localOracle(victim);
  const client: Oracle = {
    info: inner.info,
    async query(x, o) {
      events.push(`${o?.purpose}-query`);
      const answer = await inner.query(x, o);
      events.push(`${o?.purpose}-answer`);
      return answer;
    },
  };
  const rng = createRng(3);
  const plan = planSteal(
    { budget: 60, checkpoints: [30, 60], pool: resolvePool('digits-mlp'), fit: { epochs: 5 }, evaluation: true },
    inner.info,
    rng,
  );
  return { victim, client, plan, rng };
}

/** A real surrogate whose fit records its start and end; with `fail`, it calls it and then throws. */
async function recorded(events: string[], fail: (() => void) | undefined, ...args: Parameters<typeof createSurrogate>) {
  const s = await createSurrogate(...args);
  return new Proxy(s, {
    get(target, key, receiver) {
      if (key !== 'fit') return Reflect.get(target, key, receiver);
      return async (...fitArgs: Parameters<Surrogate['fit']>) => {
        events.push('fit-start');
        await target.fit(...fitArgs);
        events.push('fit-end');
        if (fail) {
          fail();
          throw new Error('the fit failed');
        }
      };
    },
  });
}

test('the evaluation labels are bought during the first fit, after the first round, and once', async (t) => {
  const events: string[] = [];
  const { victim, client, plan, rng } = await setup(events);
  t.after(() => victim.close());
  let calls = 0;
  const result = await steal(
    plan,
    {
      client,
      info: client.info,
      createSurrogate: (arch, options, r) => recorded(events, undefined, arch, options, r),
      evaluation: () => {
        calls++;
        return buyEvaluationLabels(client, resolveEval('digits-mlp'));
      },
    },
    rng,
  );
  assert.equal(calls, 1, 'bought once, for every round');
  assert.deepEqual(events.slice(0, 3), ['attack-query', 'attack-answer', 'eval-query']);
  assert.ok(events.indexOf('eval-query') < events.indexOf('fit-start'), 'the buy starts as the first fit does');
  assert.equal(result.rounds.length, 2);
  assert.ok(result.rounds.every((r) => r.metrics.fidelity !== undefined && r.metrics.fidelity > 0.3));
  assert.equal(result.evaluation?.targetLabels.length, resolveEval('digits-mlp').x.shape[0]);
  result.substitute.dispose();
});

test('a fit that fails while the evaluation buy is in flight: steal() rejects after the buy settles', async (t) => {
  const events: string[] = [];
  const { victim, client, plan, rng } = await setup(events);
  t.after(() => victim.close());
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const evaluation = async (): Promise<EvaluationSet> => {
    events.push('eval-started');
    await held;
    const e = await buyEvaluationLabels(client, resolveEval('digits-mlp'));
    events.push('eval-settled');
    return e;
  };
  const run = steal(
    plan,
    {
      client,
      info: client.info,
      // The buy is let go as the fit fails, so it is still in flight when steal() sees the failure.
      createSurrogate: (arch, options, r) => recorded(events, release, arch, options, r),
      evaluation,
    },
    rng,
  );
  await assert.rejects(run, /the fit failed/);
  events.push('rejected');
  assert.ok(events.indexOf('fit-end') < events.indexOf('eval-settled'), events.join(', '));
  assert.ok(events.indexOf('eval-settled') < events.indexOf('rejected'), events.join(', '));
});
