/**
 * @file The coverage monitor on a real victim (mnist-cnn), through the defense pipeline, at its
 * default options: (a) per key, uniform random-input attackers (random queries over the domain, as
 * path-finding attacks on trees start) are flagged and JBDA-like attackers are measured; (b) 100
 * honest clients replaying distinct held-out MNIST rows (mnist-cnn's 2000-row evaluation split,
 * 1,000 rows each) are not flagged, alone or in aggregate; (c) how many natural-pool attackers it
 * misses (all, as expected); (d) a Sybil attack: uniform random inputs spread over 20 keys, 100
 * queries each (each under the per-key threshold), among the 100 honest keys, is flagged by the
 * aggregate on every Sybil key and on no honest key; the same with a JBDA-like attack is measured.
 * Also: per-tier groups, block and degrade, bounds, determinism, option checks. The measured
 * numbers are printed (t.diagnostic) and recorded in docs/detectors.md.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import type { ModelInfo, Prediction } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { silentLogger } from '../../src/core/types.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import {
  type CoverageDefense,
  coverage,
  createContext,
  createDefenses,
  createPipeline,
  defenses,
} from '../../src/defenses/index.js';
import {
  type Labelled,
  type Rng,
  answered,
  distinctIndices,
  jbdaQueries,
  labelled,
  rowAt,
  sourceAnswer,
  stream,
  uniformQueries,
} from './streams.js';

const deps = { clock: { now: () => 0, sleep: async () => {} }, log: silentLogger };
/** The default per-key threshold (coverage.ts), which every Sybil key must stay under. */
const KEY_THRESHOLD = 0.08;

interface Setup {
  readonly held: Labelled;
  readonly pool: Labelled;
  readonly victim: Awaited<ReturnType<typeof loadOnnxModel>>;
  readonly poolX: ReturnType<typeof loadScenarioData>['pool']['x'];
}

let cached: Promise<Setup> | undefined;
function setup(): Promise<Setup> {
  cached ??= (async () => {
    const { evaluation, pool } = loadScenarioData('mnist-cnn');
    return {
      held: await labelled('mnist-cnn.onnx', evaluation.x),
      pool: await labelled('mnist-cnn.onnx', pool.x),
      victim: await loadOnnxModel(join(modelsDir, 'mnist-cnn.onnx')),
      poolX: pool.x,
    };
  })();
  return cached;
}

/** Sends `count` distinct rows of `source` as client `key:<key>`. */
async function replay(
  stage: CoverageDefense,
  source: Labelled,
  key: string,
  order: readonly number[],
  tier?: string,
): Promise<void> {
  await stream(
    stage,
    source.info,
    key,
    order.map((i) => rowAt(source, i)),
    sourceAnswer(source, (i) => order[i]!),
    {
      batch: 50,
      ...(tier === undefined ? {} : { tier }),
    },
  );
}

/** Sends all of a generated source's rows as client `key:<key>`. */
async function attack(stage: CoverageDefense, source: Labelled, key: string, from = 0, to?: number): Promise<void> {
  const n = (to ?? source.labels.length) - from;
  const rows = Array.from({ length: n }, (_, i) => rowAt(source, from + i));
  await stream(
    stage,
    source.info,
    key,
    rows,
    sourceAnswer(source, (i) => from + i),
    { batch: 10 },
  );
}

test('(a) per key: uniform random-input attackers are flagged; JBDA-like attackers are measured', async (t) => {
  const { victim, poolX } = await setup();
  const rng = createRng(7);
  const run = async (make: (r: Rng) => Float32Array[]): Promise<(number | undefined)[]> => {
    const out: (number | undefined)[] = [];
    for (let a = 0; a < 5; a++) {
      const source = await answered(victim, make(rng));
      const stage = coverage();
      await attack(stage, source, `a${a}`);
      const v = stage.client(`key:a${a}`)!;
      out.push(v.flaggedBy === 'key' ? v.flaggedAt : undefined);
    }
    return out;
  };
  const uniform = await run((r) => uniformQueries(victim.info, 784, r, 1000));
  const jbda = await run((r) => jbdaQueries(poolX, r, 1280));
  const show = (xs: (number | undefined)[]): string =>
    `${xs.filter((x) => x !== undefined).length}/5 flagged; queries to first flag: ${xs.map((x) => x ?? '-').join(', ')}`;
  t.diagnostic(`uniform random-input attackers (1000 queries each): ${show(uniform)}`);
  t.diagnostic(`JBDA-like attackers on mnist-cnn (1280 queries each): ${show(jbda)}`);
  assert.ok(
    uniform.every((x) => x !== undefined),
    'every random-input attacker is flagged on its own coverage',
  );
});

test('(b) honest clients replaying distinct held-out MNIST rows, alone and in aggregate, and (c) natural-pool attackers', async (t) => {
  const { held, pool } = await setup();
  const rng = createRng(11);
  const stage = coverage();
  const covs: number[] = [];
  let flagged = 0;
  for (let c = 0; c < 100; c++) {
    await replay(stage, held, `honest-${c}`, distinctIndices(rng, held.labels.length, 1000));
    const v = stage.client(`key:honest-${c}`)!;
    covs.push(v.coverage);
    if (v.flagged) flagged++;
  }
  const g = stage.group()!;
  t.diagnostic(
    `honest clients (1000 distinct held-out MNIST rows each) flagged: ${flagged}/100; highest own coverage ${Math.max(...covs).toFixed(4)}; aggregate coverage ${g.coverage.toFixed(4)} (${g.cells} cells over the last ${g.queries} queries)`,
  );
  assert.equal(flagged, 0, 'no honest client is flagged');
  assert.equal(g.suspicious, false, "the honest clients' aggregate is not suspicious");

  // Natural-pool attackers: one stage, no aggregate, so each is judged on its own.
  const natural = coverage({ aggregate: 'off' });
  let missed = 0;
  for (let c = 0; c < 20; c++) {
    await replay(natural, pool, `pool-${c}`, distinctIndices(rng, pool.labels.length, 1000));
    if (!natural.client(`key:pool-${c}`)!.flagged) missed++;
  }
  t.diagnostic(`natural-pool attackers (1000 distinct MNIST pool rows each) missed: ${missed}/20`);
});

/**
 * 100 honest keys (1000 held-out rows each) and 20 attack keys sharing `queries` between them
 * (queries.length / 20 each), interleaved in 5 rounds; returns what the stage decided.
 */
async function sybilRun(
  attackSource: Labelled,
  held: Labelled,
  rng: Rng,
): Promise<{ stage: CoverageDefense; sybil: ReturnType<CoverageDefense['client']>[]; honestFlagged: number }> {
  const stage = coverage();
  const orders = Array.from({ length: 100 }, () => distinctIndices(rng, held.labels.length, 1000));
  const per = attackSource.labels.length / 20;
  const rounds = 5;
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < 100; c++) {
      await replay(stage, held, `honest-${c}`, orders[c]!.slice((r * 1000) / rounds, ((r + 1) * 1000) / rounds));
    }
    for (let k = 0; k < 20; k++) {
      const from = k * per + (r * per) / rounds;
      await attack(stage, attackSource, `sybil-${k}`, from, from + per / rounds);
    }
  }
  const sybil = Array.from({ length: 20 }, (_, k) => stage.client(`key:sybil-${k}`));
  const honestFlagged = Array.from({ length: 100 }, (_, c) => stage.client(`key:honest-${c}`)!).filter(
    (v) => v.flagged,
  ).length;
  return { stage, sybil, honestFlagged };
}

test('(d) a Sybil attack over 20 keys is flagged by the aggregate on every Sybil key and no honest key', async (t) => {
  const { held, victim, poolX } = await setup();
  const rng = createRng(13);
  const uniform = await answered(victim, uniformQueries(victim.info, 784, rng, 2000));
  const u = await sybilRun(uniform, held, rng);
  const byAggregate = u.sybil.filter((v) => v?.flaggedBy === 'aggregate').length;
  // Each Sybil key's own coverage, judged alone (cells stop counting at a verdict, so not from u.stage).
  const alone = coverage({ aggregate: 'off' });
  for (let k = 0; k < 20; k++) await attack(alone, uniform, `sybil-${k}`, k * 100, (k + 1) * 100);
  const own = Array.from({ length: 20 }, (_, k) => alone.client(`key:sybil-${k}`)!);
  const ownMax = Math.max(...own.map((v) => v.coverage));
  const honestRare = Math.max(
    ...Array.from({ length: 100 }, (_, c) => u.stage.client(`key:honest-${c}`)!.rareShare).filter(Number.isFinite),
  );
  const g = u.stage.group()!;
  t.diagnostic(
    `uniform Sybil (20 keys x 100 queries) among 100 honest keys: ${byAggregate}/20 Sybil keys flagged by the aggregate (after ${u.sybil.map((v) => v!.flaggedAt ?? '-').join(', ')} of their queries); highest own coverage of a Sybil key alone ${ownMax.toFixed(4)} (per-key threshold ${KEY_THRESHOLD}); honest flagged ${u.honestFlagged}/100; aggregate coverage ${g.coverage.toFixed(4)}; lowest Sybil rare share ${Math.min(...u.sybil.map((v) => v!.rareShare)).toFixed(2)}, highest honest ${honestRare.toFixed(2)}`,
  );
  assert.ok(
    own.every((v) => !v.flagged) && ownMax < KEY_THRESHOLD,
    'every Sybil key stays under the per-key threshold',
  );
  assert.ok(
    u.sybil.every((v) => v?.flaggedBy === 'aggregate'),
    'every Sybil key is flagged by the aggregate',
  );
  assert.equal(u.honestFlagged, 0, 'no honest key is flagged');

  const jbda = await answered(victim, jbdaQueries(poolX, rng, 2560));
  const j = await sybilRun(jbda, held, rng);
  const gj = j.stage.group()!;
  t.diagnostic(
    `JBDA-like Sybil (20 keys x 128 queries) among 100 honest keys: ${j.sybil.filter((v) => v?.flagged).length}/20 Sybil keys flagged; honest flagged ${j.honestFlagged}/100; aggregate coverage ${gj.coverage.toFixed(4)}`,
  );
  assert.equal(j.honestFlagged, 0, 'no honest key is flagged');
});

test("aggregate: 'tier' pools each tier apart, so one tier's Sybil does not taint another", async () => {
  const { held, victim } = await setup();
  const rng = createRng(17);
  const uniform = await answered(victim, uniformQueries(victim.info, 784, rng, 2000));
  const stage = coverage({ aggregate: 'tier' });
  for (let c = 0; c < 20; c++) await replay(stage, held, `pro-${c}`, distinctIndices(rng, 2000, 200), 'pro');
  for (let k = 0; k < 20; k++) {
    const rows = Array.from({ length: 100 }, (_, i) => rowAt(uniform, k * 100 + i));
    await stream(
      stage,
      uniform.info,
      `free-${k}`,
      rows,
      sourceAnswer(uniform, (i) => k * 100 + i),
      {
        batch: 10,
        tier: 'free',
      },
    );
  }
  // One more request per key, now that the free tier is suspicious.
  for (let k = 0; k < 20; k++)
    await stream(
      stage,
      uniform.info,
      `free-${k}`,
      [rowAt(uniform, k)],
      sourceAnswer(uniform, (i) => k + i),
      {
        tier: 'free',
      },
    );
  for (let c = 0; c < 20; c++) await replay(stage, held, `pro-${c}`, distinctIndices(rng, 2000, 10), 'pro');
  assert.equal(stage.group('free')?.suspicious, true);
  assert.equal(stage.group('pro')?.suspicious, false);
  assert.ok(Array.from({ length: 20 }, (_, k) => stage.client(`key:free-${k}`)!).every((v) => v.flagged));
  assert.ok(Array.from({ length: 20 }, (_, c) => stage.client(`key:pro-${c}`)!).every((v) => !v.flagged));
});

test('block refuses a flagged client from then on; degrade serves it labels only; others are served', async () => {
  const { victim } = await setup();
  const source = await answered(victim, uniformQueries(victim.info, 784, createRng(19), 600));
  const block = defenses.create('coverage', { action: 'block' }, deps) as CoverageDefense;
  const all = Array.from({ length: 600 }, (_, i) => rowAt(source, i));
  const r = await stream(block, victim.info, 'thief', all, sourceAnswer(source), { batch: 10 });
  assert.equal(r.rejected, true);
  assert.equal(block.client('key:thief')?.flaggedBy, 'key');
  const again = await stream(block, victim.info, 'thief', all.slice(0, 1), sourceAnswer(source));
  assert.equal(again.rejected, true);
  const other = await stream(block, victim.info, 'someone', all.slice(0, 5), sourceAnswer(source));
  assert.equal(other.rejected, false);

  const [degrade] = createDefenses([{ name: 'coverage', options: { action: 'degrade' } }], deps) as CoverageDefense[];
  const pipeline = createPipeline([degrade!]);
  const kinds: string[] = [];
  for (let start = 0; start < 600; start += 50) {
    const ctx = createContext({
      requestId: `r${start}`,
      model: victim.info,
      inputs: { data: source.rows.slice(start * 784, (start + 50) * 784), shape: [50, 28, 28, 1] },
      at: 0,
      credentials: { apiKey: 'thief', ip: '127.0.0.1' },
      client: { id: 'key:thief', source: 'api-key', authenticated: true },
    });
    const out = await pipeline.run(ctx, async (): Promise<Prediction> => sourceAnswer(source)(start, 50));
    kinds.push(out.kind);
    assert.deepEqual(Array.from(out.labels), Array.from(source.labels.subarray(start, start + 50)));
  }
  assert.equal(kinds[0], 'probs');
  assert.equal(kinds[kinds.length - 1], 'label');
});

test('bounds: clients beyond maxClients are forgotten, a group keeps aggregateWindow queries, cells stop at the verdict', async () => {
  const info: ModelInfo = { name: 'm', inputShape: [4], classes: 2, output: 'probs', domain: { min: 0, max: 1 } };
  const rng = createRng(23);
  const rows = Array.from({ length: 400 }, () => Float32Array.from({ length: 4 }, () => rng.next()));
  const labels = (_: Float32Array, i: number): number => i % 2;
  const answer = (start: number, count: number): Prediction => ({
    kind: 'label',
    labels: Int32Array.from({ length: count }, (_, k) => labels(rows[start + k]!, start + k)),
  });
  const stage = coverage({ bits: 4, coverage: 0.5, minQueries: 10, maxClients: 2, aggregateWindow: 50 });
  await stream(stage, info, 'a', rows, answer);
  const a = stage.client('key:a')!;
  assert.equal(a.queries, 400);
  assert.equal(a.flaggedBy, 'key');
  // Flagged once half of the 2 x 16 cells were hit (and minQueries reached); no cell counted after.
  assert.equal(a.cells, 16);
  assert.equal(stage.group()!.queries, 50);
  await stream(stage, info, 'b', rows.slice(0, 3), answer);
  await stream(stage, info, 'c', rows.slice(0, 3), answer);
  assert.equal(stage.client('key:a'), undefined);
  assert.ok(stage.client('key:b') && stage.client('key:c'));
});

test('deterministic: the same seed gives the same cells, another seed another partition', async () => {
  const { held } = await setup();
  const order = distinctIndices(createRng(29), 2000, 300);
  const cells = async (seed: number): Promise<number> => {
    const stage = coverage({ seed });
    await replay(stage, held, 'x', order);
    return stage.client('key:x')!.cells;
  };
  const a = await cells(0);
  assert.equal(await cells(0), a);
  const others = [await cells(1), await cells(2), await cells(3)];
  assert.ok(
    others.some((c) => c !== a),
    'another seed draws other splits',
  );
});

test('options are validated', () => {
  for (const bad of [
    { bits: 0 },
    { bits: 17 },
    { seed: 0.5 },
    { coverage: 0 },
    { coverage: 1.5 },
    { minQueries: 0 },
    { aggregate: 'all' },
    { aggregateWindow: 0 },
    { aggregateCoverage: 2 },
    { rareShare: 0 },
    { commonVisitors: 1 },
    { minCells: 0 },
    { range: [1, 0] },
    { action: 'warn' },
    { degradeTo: { name: 'label-only' } },
    { maxClients: 0 },
    { other: 1 },
  ])
    assert.throws(() => defenses.create('coverage', bad, deps), { code: 'HEIST_ERR_BAD_CONFIG' }, JSON.stringify(bad));
});
