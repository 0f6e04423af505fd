/**
 * @file CART training (Breiman et al. 1984) for continuous features: binary splits `x[f] <= t`
 * chosen by the largest decrease of Gini impurity, t the midpoint between consecutive distinct
 * training values (so a float32 input is never on the threshold). Stops at maxDepth, on a pure
 * node, or where no split leaves minSamplesLeaf rows on both sides with a positive decrease.
 * Ties between equally good splits are broken by a seeded feature order (core/rng.ts), so the
 * same seed grows the same tree. Node ids are "n<index>" in depth-first order, unique per node.
 */
import type { Dataset } from '../core/dataset.js';
import { HeistError } from '../core/errors.js';
import type { InputDomain } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import { rowCount, rowSize } from '../core/tensor.js';
import { TREE_FORMAT, type TreeJson, type TreeModel, type TreeNode, treeModel } from './tree.js';

export interface CartOptions {
  readonly name?: string;
  /** Longest root-to-leaf path (default 10). */
  readonly maxDepth?: number;
  /** Fewest training rows in a leaf (default 1). */
  readonly minSamplesLeaf?: number;
  readonly output?: 'probs' | 'label';
  readonly domain?: InputDomain;
  readonly rng: Rng;
}

interface Split {
  readonly feature: number;
  readonly threshold: number;
  readonly impurity: number;
}

function gini(counts: Float64Array, n: number): number {
  if (n === 0) return 0;
  let s = 0;
  for (const c of counts) s += c * c;
  return 1 - s / (n * n);
}

export function trainCart(ds: Dataset, opts: CartOptions): TreeModel {
  if (!ds.y) throw new HeistError('HEIST_ERR_BAD_DATA', `data set "${ds.name}" has no labels`);
  const y = ds.y;
  const n = rowCount(ds.x);
  const d = rowSize(ds.x);
  const k = ds.classes;
  const x = ds.x.data;
  const maxDepth = opts.maxDepth ?? 10;
  const minLeaf = Math.max(1, opts.minSamplesLeaf ?? 1);
  if (n === 0) throw new HeistError('HEIST_ERR_BAD_DATA', `data set "${ds.name}" is empty`);
  const nodes: TreeNode[] = [];

  const countsOf = (idx: readonly number[]): Float64Array => {
    const c = new Float64Array(k);
    for (const i of idx) c[y[i]]++;
    return c;
  };

  const bestSplit = (idx: number[], parent: Float64Array): Split | undefined => {
    const m = idx.length;
    let best: Split | undefined;
    const base = gini(parent, m);
    // A fresh seeded feature order per node: among equal decreases, the first feature in it wins.
    const order = opts.rng.shuffle(Array.from({ length: d }, (_, j) => j));
    const left = new Float64Array(k);
    const right = new Float64Array(k);
    for (const f of order) {
      const sorted = [...idx].sort((a, b) => x[a * d + f] - x[b * d + f] || a - b);
      left.fill(0);
      right.set(parent);
      for (let r = 0; r < m - 1; r++) {
        const c = y[sorted[r]];
        left[c]++;
        right[c]--;
        const v = x[sorted[r] * d + f];
        const next = x[sorted[r + 1] * d + f];
        if (v === next || r + 1 < minLeaf || m - r - 1 < minLeaf) continue;
        const impurity = ((r + 1) * gini(left, r + 1) + (m - r - 1) * gini(right, m - r - 1)) / m;
        if (impurity < base - 1e-12 && (best === undefined || impurity < best.impurity - 1e-12)) {
          best = { feature: f, threshold: (v + next) / 2, impurity };
        }
      }
    }
    return best;
  };

  const grow = (idx: number[], depth: number): number => {
    const at = nodes.length;
    const counts = countsOf(idx);
    nodes.push({ id: `n${at}`, counts: Array.from(counts) });
    const pure = counts.some((c) => c === idx.length);
    const split = pure || depth >= maxDepth || idx.length < 2 * minLeaf ? undefined : bestSplit(idx, counts);
    if (!split) return at;
    const l = idx.filter((i) => x[i * d + split.feature] <= split.threshold);
    const r = idx.filter((i) => x[i * d + split.feature] > split.threshold);
    const left = grow(l, depth + 1);
    const right = grow(r, depth + 1);
    nodes[at] = { ...nodes[at], feature: split.feature, threshold: split.threshold, left, right };
    return at;
  };
  grow(
    Array.from({ length: n }, (_, i) => i),
    0,
  );

  const doc: TreeJson = {
    format: TREE_FORMAT,
    name: opts.name ?? `${ds.name}-tree`,
    inputShape: ds.x.shape.slice(1),
    classes: k,
    ...(ds.classNames && ds.classNames.length === k ? { classNames: [...ds.classNames] } : {}),
    domain: opts.domain ?? { min: 0, max: 1 },
    output: opts.output ?? 'probs',
    missing: 'stop-at-node',
    nodes,
  };
  return treeModel(doc);
}
