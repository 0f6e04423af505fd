/**
 * @file `heist train --arch tree`: a CART decision tree (models/tree-train.ts) on the same splits as
 * the other victims, written as heist.tree/v1 JSON (served by `heist serve --model x.tree.json`,
 * with leaf ids and incomplete queries). Same seed, same tree.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Dataset } from '../core/dataset.js';
import { createRng } from '../core/rng.js';
import { accuracy } from '../eval/metrics.js';
import { loadTreeModel, saveTreeModel } from '../models/tree.js';
import { trainCart } from '../models/tree-train.js';

export interface TreeTrainOptions {
  readonly name: string;
  readonly train: Dataset;
  readonly test: Dataset;
  readonly out: string;
  readonly seed?: number;
  readonly maxDepth?: number;
  readonly minSamplesLeaf?: number;
}

export interface TreeTrainResult {
  readonly testAccuracy: number;
  readonly leaves: number;
  readonly depth: number;
}

export function trainTreeFile(o: TreeTrainOptions): TreeTrainResult {
  const model = trainCart(o.train, {
    name: o.name,
    maxDepth: o.maxDepth,
    minSamplesLeaf: o.minSamplesLeaf,
    rng: createRng(o.seed ?? 0).fork('cart'),
  });
  mkdirSync(dirname(o.out), { recursive: true });
  saveTreeModel(o.out, model);
  const reloaded = loadTreeModel(o.out); // the file is what gets served: measure it
  return {
    testAccuracy: accuracy(o.test.y!, reloaded.predict(o.test.x).labels),
    leaves: reloaded.leafCount,
    depth: reloaded.depth,
  };
}
