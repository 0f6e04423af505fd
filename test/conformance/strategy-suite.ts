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
import type { QueryStrategy, StrategyEntry } from '../../src/strategies/types.js';

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

  async add(x: Tensor): Promise<void> {
    if (rowCount(x) === 0) return;
    this.xs.push(x);
    this.labels.push(...(await substitute.predict(x)).labels);
  }

  context() {
    if (this.xs.length === 0) return {};
    return { substitute, boughtRows: { x: concatRows(this.xs), labels: Int32Array.from(this.labels) } };
  }
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
    const x = await s.propose({ info: conformanceInfo, round, bought, rng, ...set.context() }, count);
    bought += rowCount(x);
    await set.add(x);
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
    const x = await s.propose({ info: conformanceInfo, round, bought, rng, ...set.context() }, count);
    await set.add(x);
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
      const x = await s.propose({ info: conformanceInfo, round: round++, bought, rng, ...set.context() }, 9);
      await set.add(x);
      assert.ok(rowCount(x) > 0, `${entry.name}: says ${left} rows are left but proposes none`);
      left -= rowCount(x);
      bought += rowCount(x);
      assert.equal(s.available, left);
    }
    assert.equal(
      rowCount(await s.propose({ info: conformanceInfo, round, bought, rng, ...set.context() }, 5)),
      0,
      `${entry.name}: rows after exhaustion`,
    );
  }
}
