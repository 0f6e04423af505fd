/**
 * @file Decision-tree extraction by path finding with leaf identifiers (Tramèr et al., Algorithm 1).
 *
 * The API returns, with each label, the id of the leaf that answered. A leaf's region is a box
 * (one interval per feature), so on any line through a point the leaf is one interval. From a
 * random point the attack finds the leaf's box, then visits the point just across each face of the
 * box (a new leaf to process, Q.PUSH in Algorithm 1), until no unvisited leaf id is left. Every
 * leaf is reached: crossing the face of a node's threshold enters that node's other subtree.
 *
 * Per leaf, Algorithm 1 line-searches every feature; two refinements cut the queries, without
 * changing what is found:
 *  - group tests (box convexity): moving a set S of features to the domain's lower end at once
 *    keeps the leaf id iff no feature of S is bounded below, so one query clears all unconstrained
 *    features and adaptive halving finds the few bounded ones (same for the upper end). Features
 *    no earlier leaf was bounded by are tested as one group first: most of them are never used.
 *  - known thresholds first: a threshold found for one leaf bounds its neighbours too, so before
 *    bisecting, the line search tries each known threshold on that feature (2 queries to confirm).
 *  - faces predicted by the leaf we came from (siblings share ancestors, hence most faces): for
 *    each face of that leaf, and the face just crossed, the outer float of the nearest known
 *    threshold is asked alone; the inner floats then ride in the group test (a box: one clean
 *    query shows them all inside), so a confirmed face costs 1 query plus a share of one.
 *  - round thresholds (trees trained on low-precision data split at values like k/32): line
 *    searches ask the coarsest dyadic point of the bracket and check the float above a low end
 *    that stays put (tree-probe.ts, bisect with round).
 * Line searches end at adjacent float32 values (tree-probe.ts): exact on float32 inputs.
 * The boxes are then cut back into a tree (tree-boxes.ts). Without leaf ids (a label-only API) the
 * labels stand in for ids; boxes then merge leaves of one class and the tree is only approximate.
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.2, Algorithm 1 (path finding).
 */
import { type ModelInfo, inputSize } from '../../../core/prediction.js';
import type { Oracle } from '../../../oracle/types.js';
import { treeModel } from '../../../models/tree.js';
import { type LeafBox, boxesToTree } from './tree-boxes.js';
import { type Answer, BudgetStop, TREE_DEFAULT_BUDGET, bisect, createProber, nextUp } from './tree-probe.js';
import { type ExtractOptions, type ExtractResult, type Extractor, extractorEntry } from '../types.js';
import { z } from 'zod';

async function extract(client: Oracle, opts: ExtractOptions): Promise<ExtractResult> {
  const info = client.info;
  const d = inputSize(info);
  const min = Math.fround(info.domain.min);
  const max = Math.fround(info.domain.max);
  const prober = createProber(client, opts.budget ?? TREE_DEFAULT_BUDGET);
  /** Per feature: the sorted inside-left float32 value `a` of every boundary found (a <= t < nextUp(a)). */
  const known: number[][] = Array.from({ length: d }, () => []);
  const learn = (f: number, a: number): void => {
    const k = known[f];
    if (!k.includes(a)) {
      k.push(a);
      k.sort((p, q) => p - q);
    }
  };
  const moved = (x: Float32Array, fs: readonly number[], v: (f: number) => number): Float32Array => {
    const y = Float32Array.from(x);
    for (const f of fs) y[f] = v(f);
    return y;
  };

  /** Features of `cands` whose move to `to(f)` leaves the leaf (group testing; 'clean' keeps the id). */
  const bounded = async (
    x: Float32Array,
    id: string,
    cands: number[],
    to: (f: number) => number,
  ): Promise<number[]> => {
    const clean = async (fs: number[]): Promise<boolean> => (await prober.ask(moved(x, fs, to))).id === id;
    const split = async (fs: number[], knownDirty: boolean): Promise<number[]> => {
      if (fs.length === 0 || (!knownDirty && (await clean(fs)))) return [];
      if (fs.length === 1) return fs;
      const a = fs.slice(0, fs.length >> 1);
      const ra = await split(a, false);
      return [...ra, ...(await split(fs.slice(a.length), ra.length === 0))];
    };
    if (cands.length === 0 || (await clean(cands))) return [];
    const unseen = cands.filter((f) => known[f].length === 0);
    const seen = cands.filter((f) => known[f].length > 0);
    if (unseen.length === 0 || seen.length === 0) return split(cands, true);
    if (await clean(unseen)) return split(seen, true);
    return [...(await split(unseen, true)), ...(await split(seen, false))];
  };

  /** The leaf's bound on feature f in direction dir (-1 lower, +1 upper): known thresholds first, then bisection. */
  const bound = async (x: Float32Array, ans: Answer, f: number, dir: -1 | 1, limit = dir < 0 ? min : max) => {
    const line = (v: number): Promise<Answer> => prober.ask(moved(x, [f], () => v));
    const same = (a: Answer): boolean => a.id === ans.id;
    let inside = x[f];
    const outside = limit;
    // Candidate faces: the inside-side float first, then the outside-side one, nearest first.
    const cands =
      dir < 0
        ? known[f].filter((a) => a < inside && a >= limit).reverse()
        : known[f].filter((a) => a >= inside && nextUp(a) <= limit);
    for (const a of cands) {
      const [near, far] = dir < 0 ? [nextUp(a), a] : [a, nextUp(a)];
      const aNear = near === inside ? ans : await line(near);
      if (!same(aNear)) return bisect(line, ans.id, inside, near, aNear, true);
      inside = near;
      const aFar = await line(far);
      if (!same(aFar)) return { inside, outside: far, outsideAnswer: aFar };
      inside = far;
    }
    return bisect(line, ans.id, inside, outside, undefined, true);
  };

  const boxes: LeafBox[] = [];
  const visited = new Set<string>();
  const x0 = Float32Array.from({ length: d }, () =>
    Math.min(max, Math.max(min, Math.fround(opts.rng.uniform(min, max)))),
  );
  let stopped = false;
  try {
    type Item = { x: Float32Array; ans: Answer; hint: readonly (readonly number[])[]; back?: [number, 0 | 1] };
    const queue: Item[] = [{ x: x0, ans: await prober.ask(x0), hint: [[], []] }];
    while (queue.length > 0) {
      const { x, ans, hint, back } = queue.shift()!;
      if (visited.has(ans.id)) continue;
      visited.add(ans.id);
      const lo = new Float32Array(d).fill(min);
      const hi = new Float32Array(d).fill(max);
      const found: number[][] = [[], []];
      for (const dir of [-1, 1] as const) {
        const end = dir < 0 ? min : max;
        const cands = Array.from({ length: d }, (_, f) => f).filter((f) => x[f] !== end);
        // The leaf we came from predicts this one's faces (shared ancestors): for each predicted
        // feature, the nearest known threshold's outer float is asked alone; if it leaves the leaf,
        // the inner float joins the group test below (a box: one clean query confirms them all).
        const guess = new Map<number, { near: number; far: number; farAnswer: Answer }>();
        const side = dir < 0 ? 0 : 1;
        for (const f of back?.[1] === side ? [back[0], ...hint[side]] : hint[side]) {
          if (!cands.includes(f) || guess.has(f)) continue;
          const a = dir < 0 ? known[f].filter((k) => k < x[f]).pop() : known[f].find((k) => k >= x[f] && k < max);
          if (a === undefined) continue;
          const [near, far] = dir < 0 ? [nextUp(a), a] : [a, nextUp(a)];
          const farAnswer = await prober.ask(moved(x, [f], () => far));
          if (farAnswer.id !== ans.id) guess.set(f, { near, far, farAnswer });
        }
        const dirty = await bounded(x, ans.id, cands, (f) => guess.get(f)?.near ?? end);
        const faces = [...guess.keys()]
          .filter((f) => !dirty.includes(f))
          .map((f) => {
            const g = guess.get(f)!;
            return { f, b: { inside: g.near, outside: g.far, outsideAnswer: g.farAnswer } };
          });
        for (const f of dirty) faces.push({ f, b: await bound(x, ans, f, dir, guess.get(f)?.near) });
        for (const { f, b } of faces) {
          if (dir < 0) lo[f] = b.inside;
          else hi[f] = b.inside;
          found[dir < 0 ? 0 : 1].push(f);
          learn(f, dir < 0 ? b.outside : b.inside);
          const y = Float32Array.from(x);
          y[f] = b.outside;
          if (!visited.has(b.outsideAnswer.id))
            queue.push({ x: y, ans: b.outsideAnswer, hint: found, back: [f, dir < 0 ? 1 : 0] });
        }
      }
      boxes.push({ answer: ans, lo, hi });
    }
  } catch (e) {
    if (!(e instanceof BudgetStop)) throw e;
    stopped = true;
  }
  return finish(info, boxes, prober.used, prober.leafIds, stopped, known);
}

function finish(
  info: ModelInfo,
  boxes: LeafBox[],
  used: number,
  leafIds: boolean,
  stopped: boolean,
  known: number[][],
): ExtractResult {
  const doc = boxesToTree(boxes, info, `extracted-${info.name}`);
  const model = treeModel(doc);
  const thresholds = known.reduce((s, k) => s + k.length, 0);
  const notes = [
    `path finding (Algorithm 1): ${boxes.length} leaves found with ${used} distinct queries (${(used / Math.max(1, boxes.length)).toFixed(1)} per leaf); ` +
      `${thresholds} distinct thresholds, each located between adjacent float32 values`,
    `reconstructed tree: ${model.leafCount} leaves, depth ${model.depth}`,
  ];
  if (!leafIds)
    notes.push(
      'the target returned no leaf identifiers: labels were used as ids, so leaves of one class merge and the tree is approximate',
    );
  if (stopped)
    notes.push('the budget ran out before every leaf was visited: unexplored regions answer the majority label');
  return {
    model,
    queriesUsed: used,
    notes,
    modelFile: { name: 'extracted.tree.json', contents: `${JSON.stringify(doc)}\n` },
    diagnostics: {
      leavesFound: boxes.length,
      queriesPerLeaf: used / Math.max(1, boxes.length),
      thresholds,
      extractedLeaves: model.leafCount,
      leafIds: leafIds ? 1 : 0,
    },
  };
}

export const treePathFinding: Extractor = {
  name: 'tree-path-finding',
  paper:
    'Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.2, Algorithm 1',
  description:
    "decision trees from leaf identifiers: each leaf's box by float32 line searches (with group tests), the tree rebuilt from the boxes",
  requires: { output: ['probs', 'label'] },
  minQueries: () => 1,
  defaultBudget: () => TREE_DEFAULT_BUDGET,
  extract,
};

export const treePathFindingEntry = extractorEntry('tree', z.object({}).strict(), () => treePathFinding);
