/**
 * @file Deterministic stratified splits (seeded shuffle, seed 0 by default), as docs/scenarios.md describes.
 * Each class's indices are shuffled; every row gets the key (rank in class + 0.5) / class size; rows
 * sorted by that key are cut into consecutive parts, so each part holds every class in proportion.
 */
import { HeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';

export interface SplitSizes {
  readonly victim: number;
  readonly pool: number;
  readonly eval: number;
}

export interface Split {
  readonly victim: number[];
  readonly pool: number[];
  readonly eval: number[];
}

export function stratifiedSplit(labels: Int32Array, sizes: SplitSizes, seed = 0): Split {
  const total = sizes.victim + sizes.pool + sizes.eval;
  if (total > labels.length) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `split needs ${total} rows but the data set has ${labels.length}`);
  }
  const rng = createRng(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => {
    const list = byClass.get(c) ?? [];
    list.push(i);
    byClass.set(c, list);
  });
  const keyed: { index: number; key: number; cls: number }[] = [];
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(byClass.get(cls)!);
    members.forEach((index, rank) => {
      keyed.push({ index, key: (rank + 0.5) / members.length, cls });
    });
  }
  keyed.sort((a, b) => a.key - b.key || a.cls - b.cls);
  const order = keyed.map((k) => k.index);
  const cut = (from: number, n: number): number[] => order.slice(from, from + n).sort((a, b) => a - b);
  return {
    victim: cut(0, sizes.victim),
    pool: cut(sizes.victim, sizes.pool),
    eval: cut(sizes.victim + sizes.pool, sizes.eval),
  };
}
