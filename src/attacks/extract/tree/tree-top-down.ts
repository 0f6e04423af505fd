/**
 * @file Decision-tree extraction top-down with incomplete queries (Tramèr et al., §4.2).
 *
 * BigML-style APIs accept queries with features left out and stop at the first node that tests a
 * missing one, answering that node's id. So a query with every feature missing names the root; a
 * query that sets a set S of features passes the root iff S holds the root's feature. The attack
 * grows the tree from the root. At a node X reached by a partial query p (present features with
 * values, the rest missing):
 *  1. hidden splits: a node between X's parent and X may test a feature already present (its value
 *     fixed, so the node was passed silently). Moving all present features to their interval ends
 *     keeps X's id iff no such split cuts those intervals (2 queries); else halving finds one such
 *     feature, whose interval is split by a line search, and each piece is grown on its own.
 *  2. leaf or split: p with every missing feature set is a complete query; if it still answers X,
 *     X is a leaf. Otherwise X tests a missing feature: halving over the missing features finds it
 *     (log2 of their number queries, setting the other half alone keeps the answer at X).
 *  3. threshold(s): a line search on that feature (others still missing) finds every change of
 *     answer; each piece is a child grown recursively with the feature now present.
 * Line searches end at adjacent float32 values (tree-probe.ts), so the rebuilt tree sends every
 * float32 input where the target does. Without leaf ids (labels as ids) nodes of one class look
 * alike: splits are missed and the tree is approximate.
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.2 (extraction with incomplete queries, top-down).
 */
import { HeistError, isHeistError } from '../../../core/errors.js';
import { inputSize } from '../../../core/prediction.js';
import { treeModel, TREE_FORMAT, type TreeJson } from '../../../models/tree.js';
import type { Oracle } from '../../../oracle/types.js';
import {
  type Answer,
  BudgetStop,
  type Segment,
  NodeList,
  TREE_DEFAULT_BUDGET,
  createProber,
  segments,
} from './tree-probe.js';
import { type ExtractOptions, type ExtractResult, type Extractor, extractorEntry } from '../types.js';
import { z } from 'zod';

interface State {
  /** The partial query: NaN = missing. */
  readonly p: Float32Array;
  /** Inclusive float32 interval of each present feature in this node's region. */
  readonly lo: Float32Array;
  readonly hi: Float32Array;
  readonly ans: Answer;
  readonly depth: number;
}

async function extract(client: Oracle, opts: ExtractOptions): Promise<ExtractResult> {
  const info = client.info;
  const d = inputSize(info);
  const min = Math.fround(info.domain.min);
  const max = Math.fround(info.domain.max);
  const prober = createProber(client, opts.budget ?? TREE_DEFAULT_BUDGET);
  const list = new NodeList(info);
  const leafIds = new Set<string>();
  let stopped = false;
  let hiddenSplits = 0;
  const maxDepth = 3 * d + 32;
  const withValues = (p: Float32Array, fs: readonly number[], v: (f: number) => number): Float32Array => {
    const y = Float32Array.from(p);
    for (const f of fs) y[f] = v(f);
    return y;
  };
  const leaf = (a: Answer): number => {
    leafIds.add(a.id);
    return list.leaf(a);
  };

  /** One feature of fs (set to v) that moves the answer off `id`, by halving; undefined when none does. */
  const oneMoving = async (
    p: Float32Array,
    id: string,
    fs: number[],
    v: (f: number) => number,
    knownMoving = false,
  ): Promise<number | undefined> => {
    if (fs.length === 0) return undefined;
    if (!knownMoving && (await prober.ask(withValues(p, fs, v))).id === id) return undefined;
    let c = fs;
    while (c.length > 1) {
      const half = c.slice(0, c.length >> 1);
      c = (await prober.ask(withValues(p, half, v))).id !== id ? half : c.slice(half.length);
    }
    return c[0];
  };

  /** Pieces of feature f's interval [lo, hi] at p, one per answer (a line search). */
  const pieces = async (p: Float32Array, f: number, lo: number, hi: number): Promise<Segment[]> => {
    const line = (v: number): Promise<Answer> => prober.ask(withValues(p, [f], () => v));
    return segments(line, lo, await line(lo), hi, await line(hi));
  };

  const child = (s: State, f: number, seg: Segment): State => {
    const p = Float32Array.from(s.p);
    p[f] = seg.lo <= s.p[f] && s.p[f] <= seg.hi ? s.p[f] : seg.lo;
    const lo = Float32Array.from(s.lo);
    const hi = Float32Array.from(s.hi);
    lo[f] = seg.lo;
    hi[f] = seg.hi;
    return { p, lo, hi, ans: seg.answer, depth: s.depth + 1 };
  };

  /** x[f] split at every piece boundary: a chain of binary nodes, the first named headId. */
  const chain = async (s: State, f: number, segs: Segment[], headId: string, k = 0): Promise<number> => {
    if (k === segs.length - 1) return grow(child(s, f, segs[k]));
    const at = list.open(s.ans, k === 0 ? headId : `${s.ans.id}/x${f}:${k}`);
    const left = await grow(child(s, f, segs[k]));
    const right = await chain(s, f, segs, headId, k + 1);
    list.setSplit(at, f, segs[k].hi, left, right);
    return at;
  };

  const grow = async (s: State): Promise<number> => {
    if (s.depth > maxDepth) return leaf(s.ans);
    const present: number[] = [];
    const missing: number[] = [];
    for (let f = 0; f < d; f++) (Number.isNaN(s.p[f]) ? missing : present).push(f);
    let split: { f: number; segs: Segment[]; head: string } | undefined;
    try {
      // 1. A node between the parent and this one testing a present feature inside its interval?
      for (const end of [s.lo, s.hi]) {
        const cands = present.filter((g) => end[g] !== s.p[g]);
        const g = await oneMoving(s.p, s.ans.id, cands, (f) => end[f]);
        if (g === undefined) continue;
        const segs = await pieces(s.p, g, s.lo[g], s.hi[g]);
        if (segs.length > 1) {
          hiddenSplits++;
          split = { f: g, segs, head: `${s.ans.id}/hidden:x${g}` };
          break;
        }
      }
      if (!split) {
        // 2. Leaf, or which missing feature this node tests.
        if (missing.length === 0) return leaf(s.ans);
        const full = await prober.ask(withValues(s.p, missing, () => min));
        if (full.id === s.ans.id) return leaf(s.ans);
        const f = (await oneMoving(s.p, s.ans.id, missing, () => min, true))!;
        // 3. Its threshold(s).
        split = { f, segs: await pieces(s.p, f, min, max), head: s.ans.id };
      }
    } catch (e) {
      if (!(e instanceof BudgetStop)) throw e;
      stopped = true;
      return leaf(s.ans);
    }
    return chain(s, split.f, split.segs, split.head);
  };

  const none = new Float32Array(d).fill(NaN);
  let root: Answer;
  try {
    root = await prober.ask(none);
  } catch (e) {
    if (
      isHeistError(e, 'HEIST_ERR_UPSTREAM') ||
      isHeistError(e, 'HEIST_ERR_NOT_FINITE') ||
      isHeistError(e, 'HEIST_ERR_BAD_BODY')
    ) {
      throw new HeistError(
        'HEIST_ERR_REQUIREMENTS',
        `tree-top-down needs a target that answers incomplete queries (missing features); "${info.name}" refused one: ${e.message}`,
        { cause: e },
      );
    }
    throw e;
  }
  await grow({ p: none, lo: new Float32Array(d).fill(min), hi: new Float32Array(d).fill(max), ans: root, depth: 0 });

  const doc: TreeJson = {
    format: TREE_FORMAT,
    name: `extracted-${info.name}`,
    inputShape: [...info.inputShape],
    classes: info.classes,
    ...(info.classNames ? { classNames: [...info.classNames] } : {}),
    domain: { min: info.domain.min, max: info.domain.max },
    output: info.output === 'label' ? 'label' : 'probs',
    missing: 'stop-at-node',
    nodes: list.nodes,
  };
  const model = treeModel(doc);
  const used = prober.used;
  const notes = [
    `top-down with incomplete queries: ${leafIds.size} leaves found with ${used} distinct queries (${(used / Math.max(1, leafIds.size)).toFixed(1)} per leaf); ` +
      `${hiddenSplits} split(s) on already-present features found by the interval check`,
    `reconstructed tree: ${model.leafCount} leaves, depth ${model.depth}; thresholds located between adjacent float32 values`,
  ];
  if (!prober.leafIds)
    notes.push(
      'the target returned no leaf identifiers: labels were used as ids, so nodes of one class look alike and the tree is approximate',
    );
  if (stopped) notes.push('the budget ran out: unexplored nodes answer their own label');
  return {
    model,
    queriesUsed: used,
    notes,
    modelFile: { name: 'extracted.tree.json', contents: `${JSON.stringify(doc)}\n` },
    diagnostics: {
      leavesFound: leafIds.size,
      queriesPerLeaf: used / Math.max(1, leafIds.size),
      hiddenSplits,
      extractedLeaves: model.leafCount,
      leafIds: prober.leafIds ? 1 : 0,
    },
  };
}

export const treeTopDown: Extractor = {
  name: 'tree-top-down',
  paper:
    'Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.2 (incomplete queries)',
  description:
    'decision trees top-down from incomplete queries (missing features stop at a node): split feature by halving, thresholds by float32 line search',
  requires: { output: ['probs', 'label'] },
  minQueries: () => 1,
  defaultBudget: () => TREE_DEFAULT_BUDGET,
  extract,
};

export const treeTopDownEntry = extractorEntry('tree', z.object({}).strict(), () => treeTopDown);
