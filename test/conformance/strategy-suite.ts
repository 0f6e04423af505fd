/**
 * @file The strategy conformance suite as a function, so that any entry (registered or a test's own)
 * runs through the same checks: deterministic under a seed, never more rows than asked, rows of the
 * declared shape inside the declared domain, and honest exhaustion. From the second round on each
 * strategy is handed what the steal loop hands it: a substitute (a fixed softmax regression, a real
 * Predictor) and the rows bought so far with the answers.
 */
import assert from 'node:assert/strict';
import type { Dataset } from '../../src/core/dataset.js';
import type { ModelInfo } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { type Tensor, concatRows, rowCount, tensor } from '../../src/core/tensor.js';
import { linearModel } from '../../src/models/linear.js';
import { strategies } from '../../src/strategies/index.js';
import type { BoughtRows, QueryStrategy, StrategyEntry } from '../../src/strategies/types.js';
import type { Rng } from '../../src/core/rng.js';

export const conformanceInfo: ModelInfo = {
  name: 'conformance',
  inputShape: [2, 3],
  classes: 3,
  output: 'probs',
  domain: { min: -1, max: 2 },
};

/** 40 natural rows inside the domain (what --pool would hand a strategy). */
export function conformancePool(): Dataset {
  const rng = createRng(99);
  const x = Float32Array.from({ length: 40 * 6 }, () => rng.uniform(-1, 2));
  return {
    name: 'conformance-pool',
    x: tensor(x, [40, 2, 3]),
    y: Int32Array.from({ length: 40 }, (_, i) => i % 3),
    classes: 3,
  };
}

/** The substitute of the rounds after the first: seeded weights, so every run sees the same one. */
const substitute = (() => {
  const rng = createRng(7);
  return linearModel({
    weights: Float32Array.from({ length: 6 * 3 }, () => rng.uniform(-2, 2)),
    bias: [0.1, -0.2, 0.3],
    inputShape: conformanceInfo.inputShape,
    domain: conformanceInfo.domain,
  });
})();

/** What the steal loop adds to the context once something is bought. */
class Bought {
  private xs: Tensor[] = [];
  private labels: number[] = [];
  latest?: BoughtRows;

  async add(x: Tensor): Promise<void> {
    if (rowCount(x) === 0) return;
    const answer = await substitute.predict(x);
    this.xs.push(x);
    this.labels.push(...answer.labels);
    this.latest = { x, labels: answer.labels, ...(answer.scores ? { soft: answer.scores } : {}) };
  }

  context() {
    if (this.xs.length === 0) return {};
    return { substitute, boughtRows: { x: concatRows(this.xs), labels: Int32Array.from(this.labels) } };
  }
}

/**
 * One round as the steal loop runs it: a single call, or, for a strategy with batchRows, calls of at
 * most that many rows, each bought (its answers handed to the next call as `latest`) before the next.
 */
async function proposeRound(
  s: QueryStrategy,
  set: Bought,
  base: { round: number; bought: number; rng: Rng },
  count: number,
): Promise<Tensor> {
  const context = set.context();
  const parts: Tensor[] = [];
  let got = 0;
  do {
    const ask = Math.min(count - got, s.batchRows ?? count - got);
    const x = await s.propose(
      {
        info: conformanceInfo,
        ...base,
        bought: base.bought + got,
        ...context,
        ...(set.latest ? { latest: set.latest } : {}),
      },
      ask,
    );
    assert.ok(s.batchRows === undefined || rowCount(x) <= s.batchRows, `${s.name}: more rows than its batchRows`);
    await set.add(x);
    parts.push(x);
    got += rowCount(x);
    if (rowCount(x) === 0 || s.batchRows === undefined) break;
  } while (got < count);
  return parts.length === 1 ? parts[0] : concatRows(parts);
}

function build(entry: StrategyEntry, seed: number): QueryStrategy {
  return entry.create(strategies.parseOptions(entry, entry.example ?? {}), {
    pool: conformancePool(),
    rng: createRng(seed),
  });
}

/** Proposals of these sizes, in order, with a per-round Rng forked from `seed`. */
async function proposeAll(s: QueryStrategy, seed: number, counts: readonly number[]): Promise<Float32Array[]> {
  const rng = createRng(seed).fork('strategy');
  const out: Float32Array[] = [];
  let bought = 0;
  const set = new Bought();
  for (const [round, count] of counts.entries()) {
    const x = await proposeRound(s, set, { round, bought, rng }, count);
    bought += rowCount(x);
    out.push(Float32Array.from(x.data));
  }
  return out;
}

export async function strategyConformance(entry: StrategyEntry): Promise<void> {
  const counts = [7, 0, 13, 5];
  // Deterministic: the same seeds give the same rows, round after round.
  assert.deepEqual(
    await proposeAll(build(entry, 3), 11, counts),
    await proposeAll(build(entry, 3), 11, counts),
    `${entry.name}: same seed, same rows`,
  );

  // Shape, count and domain.
  const s = build(entry, 5);
  const rng = createRng(12).fork('strategy');
  const d = 6;
  let bought = 0;
  const set = new Bought();
  for (const [round, count] of counts.entries()) {
    const before = s.available;
    const x = await proposeRound(s, set, { round, bought, rng }, count);
    const n = rowCount(x);
    assert.ok(n <= count, `${entry.name}: ${n} rows for ${count} asked`);
    assert.deepEqual(x.shape, [n, ...conformanceInfo.inputShape], `${entry.name}: rows of the declared shape`);
    assert.equal(x.data.length, n * d);
    for (const v of x.data)
      assert.ok(
        Number.isFinite(v) && v >= conformanceInfo.domain.min && v <= conformanceInfo.domain.max,
        `${entry.name}: ${v} outside the domain`,
      );
    if (before === undefined) assert.equal(n, count, `${entry.name}: an unlimited strategy gives every row asked for`);
    else assert.equal(s.available, before - n, `${entry.name}: available drops by the rows proposed`);
    bought += n;
  }

  // A limited (pool) strategy proposes pool rows only, and none twice.
  if (s.available !== undefined) {
    const pool = conformancePool();
    const key = (a: Float32Array) => Array.from(a).join(',');
    const inPool = new Set(Array.from({ length: 40 }, (_, i) => key(pool.x.data.subarray(i * d, (i + 1) * d))));
    const seen = new Set<string>();
    for (const x of await proposeAll(build(entry, 8), 13, [9, 11, 20])) {
      for (let i = 0; i < x.length / d; i++) {
        const k = key(x.subarray(i * d, (i + 1) * d));
        assert.ok(inPool.has(k), `${entry.name}: proposed a row that is not in the pool`);
        assert.ok(!seen.has(k), `${entry.name}: proposed a pool row twice`);
        seen.add(k);
      }
    }
    assert.equal(seen.size, 40, `${entry.name}: 40 asked of a 40-row pool`);
  }

  // Honest exhaustion: a limited strategy proposes exactly what it said it had, then nothing.
  if (s.available !== undefined) {
    let left = s.available;
    let round = counts.length;
    while (left > 0) {
      const x = await proposeRound(s, set, { round: round++, bought, rng }, 9);
      assert.ok(rowCount(x) > 0, `${entry.name}: says ${left} rows are left but proposes none`);
      left -= rowCount(x);
      bought += rowCount(x);
      assert.equal(s.available, left);
    }
    assert.equal(
      rowCount(await proposeRound(s, set, { round, bought, rng }, 5)),
      0,
      `${entry.name}: rows after exhaustion`,
    );
  }
}
