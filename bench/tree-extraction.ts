/**
 * @file Decision-tree extraction numbers (Tramèr et al. 2016, §4.2) on the shipped CART trees:
 * queries per leaf for path finding (Algorithm 1) and top-down with incomplete queries, agreement on
 * the held-out test split and on 10,000 uniform inputs (labels and leaf ids), and the agreement
 * lost when leaf ids collide (label only; ids hashed into 4 buckets). In process (localOracle):
 * query counts are the same over HTTP (test/e2e/extract-tree.test.ts checks it).
 * Run: node --import tsx bench/tree-extraction.ts  ->  bench/results/tree-extraction.json
 */
import { join } from 'node:path';
import { getExtractor } from '../src/attacks/extract/index.js';
import { subset } from '../src/core/dataset.js';
import type { Predictor } from '../src/core/prediction.js';
import { createRng } from '../src/core/rng.js';
import { type Tensor, tensor } from '../src/core/tensor.js';
import { modelsDir } from '../src/datasets/paths.js';
import { loadDataset } from '../src/datasets/registry.js';
import { stratifiedSplit } from '../src/datasets/splits.js';
import { loadTreeModel } from '../src/models/tree.js';
import { localOracle } from '../src/oracle/local.js';
import { withHashedLeafIds, withoutLeafIds } from '../test/fixtures/tree-ids.js';
import { writeBenchResult } from './results-file.js';

function agreement(a: Int32Array, b: Int32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] === b[i] ? 1 : 0;
  return s / a.length;
}

async function run(): Promise<void> {
  const results: Record<string, unknown>[] = [];
  for (const dataset of ['breast-cancer', 'digits']) {
    const file = join(modelsDir, `${dataset}-tree.tree.json`);
    const tree = loadTreeModel(file);
    const ds = loadDataset(dataset);
    const n = ds.x.shape[0];
    const test = subset(
      ds,
      stratifiedSplit(
        ds.y!,
        { victim: Math.floor(n / 2), pool: Math.floor(n / 4), eval: n - Math.floor(n / 2) - Math.floor(n / 4) },
        0,
      ).eval,
    );
    const d = ds.x.shape[1];
    const rng = createRng(12345);
    const uniform = tensor(
      Float32Array.from({ length: 10_000 * d }, () => Math.fround(rng.next())),
      [10_000, d],
    );
    const targets: [string, Predictor][] = [
      ['unique leaf ids', tree],
      ['label only', withoutLeafIds(tree)],
      ['ids hashed into 4 buckets', withHashedLeafIds(tree, 4)],
    ];
    for (const [ids, target] of targets) {
      for (const method of ['tree-path-finding', 'tree-top-down']) {
        const t0 = performance.now();
        const r = await getExtractor(method).extract(localOracle(target), { rng: createRng(0) });
        const ms = performance.now() - t0;
        const on = (x: Tensor) => {
          const a = tree.predict(x);
          const b = r.model.predict(x) as ReturnType<typeof tree.predict>;
          return {
            labels: agreement(a.labels, b.labels),
            leafIds: a.leafIds!.filter((id, i) => id === b.leafIds?.[i]).length / a.labels.length,
          };
        };
        const row = {
          model: `models/${dataset}-tree.tree.json`,
          features: d,
          leaves: tree.leafCount,
          depth: tree.depth,
          ids,
          method,
          queries: r.queriesUsed,
          queriesPerLeaf: Number((r.queriesUsed / tree.leafCount).toFixed(2)),
          leavesFound: r.diagnostics?.leavesFound,
          testSplit: { rows: test.x.shape[0], ...on(test.x) },
          uniform10k: on(uniform),
          extractedLeaves: r.diagnostics?.extractedLeaves,
          ms: Math.round(ms),
        };
        results.push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    }
  }
  const out = writeBenchResult('tree-extraction', {
    bench: 'tree-extraction',
    paper: 'Tramèr et al., USENIX Security 2016, arXiv:1609.02943, §4.2',
    command: 'node --import tsx bench/tree-extraction.ts',
    note: 'queries = distinct paid rows; queriesPerLeaf = queries / leaves of the target; agreement of labels and of leaf ids with the target',
    results,
  });
  process.stdout.write(`wrote ${out}\n`);
}

await run();
