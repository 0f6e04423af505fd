/**
 * @file What both tree extractors share: a memoising, budget-capped prober that turns answers into
 * node identifiers, float32 line searches, and the reconstructed tree's node list.
 *
 * Line searches run on the float32 grid: a threshold t splits float32 inputs between two adjacent
 * float32 values a <= t < b, and the search ends only when it holds such a pair. The recovered
 * threshold (a + b) / 2 therefore sends every float32 input (all the gateway and Tensors carry)
 * the same way as the target's, which is what makes agreement exact rather than within epsilon.
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.2 (LINE_SEARCH of Algorithm 1).
 */
import { hashRow } from '../../../core/hash.js';
import { type ModelInfo, inputSize } from '../../../core/prediction.js';
import { tensor } from '../../../core/tensor.js';
import type { TreeNode } from '../../../models/tree.js';
import type { Oracle } from '../../../oracle/types.js';

/** Default attack budget for the tree extractors (they stop earlier when every leaf is found). */
export const TREE_DEFAULT_BUDGET = 200_000;

export interface Answer {
  /** The target's node id, or "label:<k>" when the target returns no leaf identifiers. */
  readonly id: string;
  readonly label: number;
  readonly probs?: Float32Array;
}

/** Thrown by the prober when the next distinct row would exceed the budget; extractors stop cleanly. */
export class BudgetStop extends Error {}

export interface Prober {
  /** Buys one row (NaN = missing feature); a row asked before is answered from memory, free. */
  ask(x: Float32Array): Promise<Answer>;
  /** Distinct rows bought. */
  readonly used: number;
  /** False once an answer came without a leaf id (ids are then the labels: they collide). */
  readonly leafIds: boolean;
}

export function createProber(client: Oracle, budget: number): Prober {
  const d = inputSize(client.info);
  const memo = new Map<string, Answer>();
  let used = 0;
  let leafIds = true;
  return {
    get used() {
      return used;
    },
    get leafIds() {
      return leafIds;
    },
    async ask(x) {
      const key = hashRow(x);
      const known = memo.get(key);
      if (known) return known;
      if (used >= budget) throw new BudgetStop(`budget of ${budget} rows spent`);
      used++;
      const p = await client.query(tensor(Float32Array.from(x), [1, d]), { purpose: 'attack' });
      const leaf = p.leafIds?.[0];
      if (leaf === undefined) leafIds = false;
      const answer: Answer = {
        id: leaf ?? `label:${p.labels[0]}`,
        label: p.labels[0],
        ...(p.scores ? { probs: p.scores.data.slice(0, client.info.classes) } : {}),
      };
      memo.set(key, answer);
      return answer;
    },
  };
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** Position of a float32 value on the float32 number line (-0 and +0 both 0). */
export function ordinal(v: number): number {
  f32[0] = v;
  const b = i32[0];
  return b >= 0 ? b : -(b & 0x7fffffff);
}

export function fromOrdinal(o: number): number {
  i32[0] = o >= 0 ? o : -o | 0x80000000;
  return f32[0];
}

/** The next float32 above v. */
export function nextUp(v: number): number {
  return fromOrdinal(ordinal(v) + 1);
}

/** A float32 strictly between a and b (which are at least two float32 steps apart): the value midpoint. */
function between(a: number, b: number): number {
  const m = Math.fround((a + b) / 2);
  if (m !== a && m !== b && (m - a) * (b - m) > 0) return m;
  return fromOrdinal(Math.floor((ordinal(a) + ordinal(b)) / 2));
}

export const adjacent = (a: number, b: number): boolean => Math.abs(ordinal(a) - ordinal(b)) <= 1;

/** One answer along a line: the value of the moving feature, the answer there. */
export type Line = (v: number) => Promise<Answer>;

/** The float32 with the fewest significant bits strictly between a < b (the coarsest dyadic point), else between(). */
function coarsest(a: number, b: number): number {
  for (let e = Math.ceil(Math.log2(Math.max(Math.abs(a), Math.abs(b), 2 ** -126))) + 1; e > -150; e--) {
    const m = (Math.floor(a / 2 ** e) + 1) * 2 ** e;
    if (m < b) return Math.fround(m) === m ? m : between(a, b);
  }
  return between(a, b);
}

/**
 * Bisection on the float32 grid between `inside` (answer id === id) and `outside` (another id) on a
 * line where the id's region is an interval. Ends at adjacent values; returns the outside answer.
 * With `round`, it asks the coarsest dyadic point of the bracket, and once the low end has stayed
 * put for 3 answers it asks the float just above it: a tree trained on low-precision data (pixels
 * k/16) splits at round values t, where the pair is (t, nextUp(t)); no change to what is found.
 */
export async function bisect(
  line: Line,
  id: string,
  inside: number,
  outside: number,
  outsideAnswer?: Answer,
  round = false,
) {
  let out = outsideAnswer;
  let stall = 0;
  let probed = NaN;
  while (!adjacent(inside, outside)) {
    const [lo, hi] = inside < outside ? [inside, outside] : [outside, inside];
    const probe = round && stall >= 3 && probed !== lo;
    if (probe) probed = lo;
    const m = probe ? nextUp(lo) : round ? coarsest(lo, hi) : between(inside, outside);
    const a = await line(m);
    if (a.id === id) inside = m;
    else {
      outside = m;
      out = a;
    }
    stall = Math.min(inside, outside) === lo ? stall + 1 : 0;
  }
  return { inside, outside, outsideAnswer: out ?? (await line(outside)) };
}

/** A maximal run of the line with one answer id: [lo, hi] inclusive float32 values. */
export interface Segment {
  readonly lo: number;
  readonly hi: number;
  readonly answer: Answer;
}

/**
 * Every change of answer on [lo, hi]: each id's region on the line is an interval (a node's region
 * is a box), so equal ids at both ends mean no change between them; otherwise bisect.
 */
export async function segments(line: Line, lo: number, aLo: Answer, hi: number, aHi: Answer): Promise<Segment[]> {
  if (aLo.id === aHi.id) return [{ lo, hi, answer: aLo }];
  if (adjacent(lo, hi))
    return [
      { lo, hi: lo, answer: aLo },
      { lo: hi, hi, answer: aHi },
    ];
  const m = between(lo, hi);
  const aM = await line(m);
  const left = await segments(line, lo, aLo, m, aM);
  const right = await segments(line, m, aM, hi, aHi);
  const joined = { lo: left[left.length - 1].lo, hi: right[0].hi, answer: aM };
  return [...left.slice(0, -1), joined, ...right.slice(1)];
}

/** The reconstructed tree: nodes appended parent first (heist.tree/v1 wants children after parents). */
export class NodeList {
  readonly nodes: TreeNode[] = [];
  private readonly ids = new Set<string>();

  constructor(private readonly info: ModelInfo) {}

  /** A unique id: the target's when free, else suffixed (label-only ids collide). */
  private unique(id: string): string {
    let u = id;
    for (let i = 2; this.ids.has(u); i++) u = `${id}#${i}`;
    this.ids.add(u);
    return u;
  }

  private counts(a: Answer): number[] {
    return a.probs ? Array.from(a.probs) : Array.from({ length: this.info.classes }, (_, c) => (c === a.label ? 1 : 0));
  }

  leaf(a: Answer): number {
    this.nodes.push({ id: this.unique(a.id), counts: this.counts(a), label: a.label });
    return this.nodes.length - 1;
  }

  /** A split placeholder; fill it with setSplit once both children exist. */
  open(a: Answer, id = a.id): number {
    this.nodes.push({ id: this.unique(id), counts: this.counts(a), label: a.label });
    return this.nodes.length - 1;
  }

  /** x[feature] <= cut goes left, where cut is the last float32 on the left. */
  setSplit(at: number, feature: number, cut: number, left: number, right: number): void {
    this.nodes[at] = { ...this.nodes[at], feature, threshold: (cut + nextUp(cut)) / 2, left, right };
  }
}
