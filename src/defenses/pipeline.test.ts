/** @file The pipeline seam: phase order, transform chaining, rejections, record rules, order checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../core/errors.js';
import { type Prediction, labelPrediction, probsPrediction } from '../core/prediction.js';
import { type Tensor, tensor } from '../core/tensor.js';
import type { Logger } from '../core/types.js';
import { checkOrder, createContext, createPipeline, provisionalClient } from './pipeline.js';
import { type Defense, DefenseRejection, type QueryContext, type Served } from './types.js';

const info = { name: 't', inputShape: [2], classes: 2, output: 'probs' as const, domain: { min: 0, max: 1 } };
const ctxFor = (n = 2, requested: 'model' | 'label' = 'model'): QueryContext =>
  createContext({
    requestId: 'r1',
    model: info,
    inputs: tensor(new Float32Array(n * 2), [n, 2]),
    at: 5,
    credentials: { ip: '10.0.0.1' },
    requested,
  });
const infer = (x: Tensor): Prediction =>
  probsPrediction(tensor(Array.from({ length: x.shape[0] }, () => [0.25, 0.75]).flat(), [x.shape[0], 2]));

function tracer(name: string, log: string[], extra: Partial<Defense> = {}): Defense {
  return {
    name,
    admit: () => void log.push(`${name}.admit`),
    inspect: (ctx) => {
      assert.ok(ctx.raw, 'raw is set before inspect');
      log.push(`${name}.inspect`);
    },
    transform: (_ctx, out) => {
      log.push(`${name}.transform`);
      return out;
    },
    record: () => void log.push(`${name}.record`),
    ...extra,
  };
}

function memoryLogger(): Logger & { errors: { msg: string; fields?: Record<string, unknown> }[] } {
  const errors: { msg: string; fields?: Record<string, unknown> }[] = [];
  return { info: () => {}, warn: () => {}, error: (msg, fields) => void errors.push({ msg, fields }), errors };
}

test('phases run admit -> infer -> inspect -> transform -> record, in list order within a phase', async () => {
  const log: string[] = [];
  const p = createPipeline([tracer('a', log), tracer('b', log)]);
  await p.run(ctxFor(), (x) => {
    log.push('infer');
    return infer(x);
  });
  assert.deepEqual(log, [
    'a.admit',
    'b.admit',
    'infer',
    'a.inspect',
    'b.inspect',
    'a.transform',
    'b.transform',
    'a.record',
    'b.record',
  ]);
});

test('transforms chain: each sees the previous output; record sees the served one; raw stays raw', async () => {
  const scale = (f: number): Defense => ({
    name: `x${f}`,
    transform: (_c, out) =>
      probsPrediction(
        tensor(
          Array.from(out.scores!.data, (v) => v * f),
          out.scores!.shape,
        ),
      ),
  });
  let recorded: Served | undefined;
  const ctx = ctxFor();
  const p = createPipeline([
    scale(2),
    {
      name: 'rec',
      record: (_c, s) => {
        recorded = s;
      },
    },
    scale(3),
  ]);
  const out = await p.run(ctx, infer);
  assert.deepEqual(Array.from(out.scores!.data), [1.5, 4.5, 1.5, 4.5]);
  assert.equal(recorded, out);
  assert.deepEqual(Array.from(ctx.raw!.scores!.data), [0.25, 0.75, 0.25, 0.75]);
});

test('a rejection from admit keeps its code and status, skips inference, and record still runs', async () => {
  const log: string[] = [];
  let recorded: Served | undefined;
  const reject: Defense = {
    name: 'limit',
    admit: async () => {
      throw new DefenseRejection('HEIST_ERR_RATE_LIMITED', 'slow down', { headers: { 'retry-after': '7' } });
    },
    record: (_c, s) => {
      recorded = s;
    },
  };
  const p = createPipeline([reject, tracer('after', log)]);
  const ctx = ctxFor();
  await assert.rejects(
    p.run(ctx, () => assert.fail('infer must not run')),
    (e: unknown) => {
      assert.ok(e instanceof DefenseRejection);
      assert.equal(e.code, 'HEIST_ERR_RATE_LIMITED');
      assert.equal(e.status, 429);
      assert.deepEqual(e.headers, { 'retry-after': '7' });
      return true;
    },
  );
  assert.ok(recorded instanceof DefenseRejection);
  assert.deepEqual(log, ['after.record']);
  assert.equal(ctx.raw, undefined);
});

test('a rejection from inspect is recorded; transforms do not run', async () => {
  const log: string[] = [];
  const p = createPipeline([
    {
      name: 'detect',
      inspect: (ctx) => {
        ctx.flags.push({ stage: 'detect', reason: 'odd', score: 0.9 });
        throw new DefenseRejection('HEIST_ERR_FORBIDDEN', 'blocked');
      },
    },
    tracer('t', log, { admit: undefined, inspect: undefined }),
  ]);
  const ctx = ctxFor();
  await assert.rejects(p.run(ctx, infer), (e: unknown) => e instanceof DefenseRejection && e.status === 403);
  assert.deepEqual(log, ['t.record']);
  assert.deepEqual(ctx.flags, [{ stage: 'detect', reason: 'odd', score: 0.9 }]);
});

test('record errors are logged with the stage name, never thrown; later records still run', async () => {
  const logger = memoryLogger();
  const log: string[] = [];
  const p = createPipeline(
    [
      {
        name: 'sync-bad',
        record: () => {
          throw new Error('disk full');
        },
      },
      { name: 'async-bad', record: async () => Promise.reject(new Error('db down')) },
      tracer('ok', log),
    ],
    { log: logger },
  );
  const out = await p.run(ctxFor(), infer);
  assert.equal(out.labels.length, 2);
  assert.deepEqual(
    logger.errors.map((e) => e.fields?.stage),
    ['sync-bad', 'async-bad'],
  );
  assert.ok(log.includes('ok.record'));
});

test('a bug (non-rejection error) propagates and is not recorded as a served reply', async () => {
  const log: string[] = [];
  const p = createPipeline([
    {
      name: 'bug',
      transform: () => {
        throw new TypeError('oops');
      },
    },
    tracer('t', log, { transform: undefined }),
  ]);
  await assert.rejects(p.run(ctxFor(), infer), TypeError);
  assert.deepEqual(log, ['t.admit', 't.inspect']);
});

test('wrong row counts from the model or a transform are internal errors', async () => {
  const p = createPipeline([{ name: 'drop-row', transform: () => labelPrediction(Int32Array.from([1])) }]);
  await assert.rejects(p.run(ctxFor(), infer), (e: unknown) => isHeistError(e, 'HEIST_ERR_INTERNAL'));
  await assert.rejects(
    createPipeline([]).run(ctxFor(3), () => infer({ data: new Float32Array(2), shape: [1, 2] })),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_INTERNAL'),
  );
});

test('requested label output strips scores after transforms, before record', async () => {
  let recorded: Served | undefined;
  const p = createPipeline([
    {
      name: 'rec',
      record: (_c, s) => {
        recorded = s;
      },
    },
  ]);
  const out = await p.run(ctxFor(2, 'label'), infer);
  assert.equal(out.kind, 'label');
  assert.equal(out.scores, undefined);
  assert.deepEqual(Array.from(out.labels), [1, 1]);
  assert.equal(recorded, out);
});

test('order check: a stage needing scores may not follow one that drops them', () => {
  const drop: Defense = { name: 'label-only', dropsScores: true, transform: (_c, o) => labelPrediction(o.labels) };
  const need: Defense = { name: 'round', requires: { scores: true }, transform: (_c, o) => o };
  assert.throws(
    () => checkOrder([drop, need]),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  const ok = createPipeline([need, drop]);
  assert.equal(ok.requiresScores, true);
  assert.equal(ok.dropsScores, true);
  assert.equal(createPipeline([]).dropsScores, false);
});

test('close closes every stage and logs failures', async () => {
  const logger = memoryLogger();
  let closed = 0;
  const p = createPipeline(
    [
      {
        name: 'a',
        close: () => {
          throw new Error('x');
        },
      },
      { name: 'b', close: async () => void closed++ },
    ],
    { log: logger },
  );
  await p.close();
  assert.equal(closed, 1);
  assert.equal(logger.errors.length, 1);
});

test('context: provisional client from a hashed API key or the IP; rejection statuses', () => {
  const byKey = provisionalClient({ apiKey: 'sk-secret', ip: '1.2.3.4' });
  assert.equal(byKey.source, 'api-key');
  assert.match(byKey.id, /^key:[0-9a-f]{16}$/);
  assert.doesNotMatch(byKey.id, /secret/);
  assert.equal(byKey.id, provisionalClient({ apiKey: 'sk-secret', ip: '5.6.7.8' }).id);
  assert.deepEqual(provisionalClient({ ip: '1.2.3.4' }), { id: 'ip:1.2.3.4', source: 'ip', authenticated: false });
  const ctx = ctxFor();
  assert.deepEqual([ctx.requestId, ctx.at, ctx.requested, ctx.flags], ['r1', 5, 'model', []]);
  assert.equal(new DefenseRejection('HEIST_ERR_UNAUTHORIZED', 'no').status, 401);
  assert.equal(new DefenseRejection('HEIST_ERR_BUDGET_EXHAUSTED', 'spent').status, 403);
  assert.equal(new DefenseRejection('HEIST_ERR_RATE_LIMITED', 'x', { status: 503 }).status, 503);
});
