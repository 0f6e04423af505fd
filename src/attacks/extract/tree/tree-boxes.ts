/**
 * @file Leaf boxes -> a decision tree. Path finding (Algorithm 1) recovers each leaf's predicate,
 * a box of per-feature intervals; the boxes of a tree's leaves tile the domain and can be cut
 * apart again by axis-aligned cuts that split no box (the target's own root split is one). The
 * rebuilt tree picks, at every region, a cut at some box's upper bound that crosses the fewest
 * boxes (none when the boxes come from a tree with unique leaf ids), most balanced first. A box
 * crossed (only when colliding ids gave inconsistent boxes) goes to both sides, clipped; a region
 * no box reaches answers the majority label of all boxes.
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.2 (a tree from the leaves' predicates).
 */
import { type ModelInfo, inputSize } from '../../../core/prediction.js';
import { TREE_FORMAT, type TreeJson } from '../../../models/tree.js';
import { type Answer, NodeList, nextUp } from './tree-probe.js';

export interface LeafBox {
  readonly answer: Answer;
  /** Inclusive float32 bounds per feature: the leaf holds x with lo[i] <= x[i] <= hi[i]. */
  readonly lo: Float32Array;
  readonly hi: Float32Array;
}

interface Cut {
  readonly feature: number;
  readonly at: number;
  readonly crossing: number;
  readonly imbalance: number;
}

function bestCut(boxes: readonly LeafBox[], lo: Float32Array, hi: Float32Array): Cut | undefined {
  let best: Cut | undefined;
  for (let f = 0; f < lo.length; f++) {
    const cands = new Set<number>();
    for (const b of boxes) if (b.hi[f] >= lo[f] && b.hi[f] < hi[f]) cands.add(b.hi[f]);
    for (const at of cands) {
      let left = 0;
      let right = 0;
      let crossing = 0;
      for (const b of boxes) {
        if (b.hi[f] <= at) left++;
        else if (b.lo[f] > at) right++;
        else crossing++;
      }
      const imbalance = Math.abs(left - right);
      if (!best || crossing < best.crossing || (crossing === best.crossing && imbalance < best.imbalance))
        best = { feature: f, at, crossing, imbalance };
    }
  }
  return best;
}

function clip(b: LeafBox, f: number, lo: number, hi: number): LeafBox {
  const l = Float32Array.from(b.lo);
  const h = Float32Array.from(b.hi);
  l[f] = Math.max(l[f], lo);
  h[f] = Math.min(h[f], hi);
  return { answer: b.answer, lo: l, hi: h };
}

export function boxesToTree(boxes: readonly LeafBox[], info: ModelInfo, name: string): TreeJson {
  const d = inputSize(info);
  const list = new NodeList(info);
  const votes = new Array<number>(info.classes).fill(0);
  for (const b of boxes) votes[b.answer.label]++;
  const majority = votes.indexOf(Math.max(...votes));
  const fallback: Answer = { id: 'unexplored', label: majority };

  const build = (bs: readonly LeafBox[], lo: Float32Array, hi: Float32Array, depth: number): number => {
    if (bs.length === 0) return list.leaf(fallback);
    if (bs.length === 1) return list.leaf(bs[0].answer);
    const cut = depth < 4 * d + 64 ? bestCut(bs, lo, hi) : undefined;
    if (!cut) return list.leaf(bs[0].answer);
    const { feature: f, at } = cut;
    const at1 = nextUp(at);
    const at0 = list.open(bs[0].answer, `split:${list.nodes.length}`);
    const leftHi = Float32Array.from(hi);
    leftHi[f] = at;
    const rightLo = Float32Array.from(lo);
    rightLo[f] = at1;
    const left = build(
      bs.filter((b) => b.lo[f] <= at).map((b) => (b.hi[f] > at ? clip(b, f, -Infinity, at) : b)),
      lo,
      leftHi,
      depth + 1,
    );
    const right = build(
      bs.filter((b) => b.hi[f] > at).map((b) => (b.lo[f] <= at ? clip(b, f, at1, Infinity) : b)),
      rightLo,
      hi,
      depth + 1,
    );
    list.setSplit(at0, f, at, left, right);
    return at0;
  };
  const { min, max } = info.domain;
  build(boxes, new Float32Array(d).fill(Math.fround(min)), new Float32Array(d).fill(Math.fround(max)), 0);
  return {
    format: TREE_FORMAT,
    name,
    inputShape: [...info.inputShape],
    classes: info.classes,
    ...(info.classNames ? { classNames: [...info.classNames] } : {}),
    domain: { min, max },
    output: info.output === 'label' ? 'label' : 'probs',
    missing: 'stop-at-node',
    nodes: list.nodes,
  };
}
