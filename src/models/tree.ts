/**
 * @file Decision trees as a plain-TS Predictor, and their JSON file format `heist.tree/v1`.
 *
 * A tree is an array of nodes, root first. An internal node tests `x[feature] <= threshold` (left)
 * else right; every node has a string id and a class distribution (`counts`, training counts for a
 * trained tree, the target's answer for an extracted one) and may fix its `label` (else argmax of
 * counts, lowest class on ties). Answers carry the answering node's id (Prediction.leafIds), as
 * BigML's API did.
 *
 * Missing features (NaN in the row; null over heist-v1): evaluated BigML style, the walk stops at
 * the first node that tests a missing feature and answers that node's label, distribution and id.
 * This is what makes Tramèr et al.'s top-down extraction with incomplete queries possible.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { type InputDomain, type ModelInfo, type Prediction, type Predictor, inputSize } from '../core/prediction.js';
import { type Tensor, rowCount, rowSize } from '../core/tensor.js';

export const TREE_FORMAT = 'heist.tree/v1';

export interface TreeNode {
  readonly id: string;
  /** Class distribution at the node (any non-negative weights). */
  readonly counts: readonly number[];
  /** The answered class; default argmax(counts). */
  readonly label?: number;
  /** Internal nodes only: x[feature] <= threshold goes to nodes[left], else nodes[right]. */
  readonly feature?: number;
  readonly threshold?: number;
  readonly left?: number;
  readonly right?: number;
}

export interface TreeJson {
  readonly format: typeof TREE_FORMAT;
  readonly name: string;
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly classNames?: readonly string[];
  readonly domain: InputDomain;
  /** 'probs': answers carry the node's normalised distribution; 'label': the label only. Both carry the id. */
  readonly output: 'probs' | 'label';
  /** How a missing (null / NaN) feature is evaluated. */
  readonly missing: 'stop-at-node';
  readonly nodes: readonly TreeNode[];
}

export interface TreeModel extends Predictor {
  readonly acceptsMissing: true;
  /** Synchronous: a tree walk per row. */
  predict(x: Tensor): Prediction;
  readonly nodes: readonly TreeNode[];
  /** Index of the node answering this flat row (a leaf, or where a missing feature stops the walk). */
  nodeIndex(row: ArrayLike<number>): number;
  /** Id of that node. */
  leafId(row: ArrayLike<number>): string;
  /** Number of leaves. */
  readonly leafCount: number;
  readonly depth: number;
  toJSON(): TreeJson;
  close(): Promise<void>;
}

const nodeSchema = z.strictObject({
  id: z.string().min(1),
  counts: z.array(z.number().nonnegative()),
  label: z.number().int().nonnegative().optional(),
  feature: z.number().int().nonnegative().optional(),
  threshold: z.number().optional(),
  left: z.number().int().positive().optional(),
  right: z.number().int().positive().optional(),
});

export const treeJsonSchema = z.strictObject({
  format: z.literal(TREE_FORMAT),
  name: z.string(),
  inputShape: z.array(z.number().int().positive()).min(1),
  classes: z.number().int().min(2),
  classNames: z.array(z.string()).optional(),
  domain: z.object({ min: z.number(), max: z.number() }),
  output: z.enum(['probs', 'label']),
  missing: z.literal('stop-at-node'),
  nodes: z.array(nodeSchema).min(1),
});

function argmax(counts: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < counts.length; c++) if (counts[c] > counts[best]) best = c;
  return best;
}

/** Structural checks: children in range and after their parent (so the tree is acyclic), ids unique. */
function validate(doc: TreeJson): void {
  const bad = (why: string): HeistError => new HeistError('HEIST_ERR_BAD_MODEL', `tree "${doc.name}": ${why}`);
  const d = inputSize(doc);
  const ids = new Set<string>();
  const parents = new Uint8Array(doc.nodes.length);
  doc.nodes.forEach((n, i) => {
    if (ids.has(n.id)) throw bad(`duplicate node id "${n.id}"`);
    ids.add(n.id);
    if (n.counts.length !== doc.classes)
      throw bad(`node ${i} has ${n.counts.length} counts for ${doc.classes} classes`);
    if (n.label !== undefined && n.label >= doc.classes) throw bad(`node ${i} label ${n.label} >= classes`);
    const internal = [n.feature, n.threshold, n.left, n.right].filter((v) => v !== undefined).length;
    if (internal !== 0 && internal !== 4)
      throw bad(`node ${i} must have all or none of feature, threshold, left, right`);
    if (internal === 4) {
      if (n.feature! >= d) throw bad(`node ${i} tests feature ${n.feature} of ${d}`);
      if (!Number.isFinite(n.threshold)) throw bad(`node ${i} threshold is not finite`);
      for (const c of [n.left!, n.right!]) {
        if (c <= i || c >= doc.nodes.length) throw bad(`node ${i} child ${c} must come after it and exist`);
        if (parents[c]++) throw bad(`node ${c} has two parents`);
      }
    }
  });
  if (doc.classNames && doc.classNames.length !== doc.classes) throw bad('classNames length != classes');
  if (!(doc.domain.min < doc.domain.max)) throw bad('domain.min must be below domain.max');
}

/** A TreeModel from its JSON document (validated). */
export function treeModel(doc: TreeJson): TreeModel {
  validate(doc);
  const nodes = doc.nodes;
  const d = inputSize(doc);
  const k = doc.classes;
  const labels = Int32Array.from(nodes, (n) => n.label ?? argmax(n.counts));
  const probs = nodes.map((n) => {
    const s = n.counts.reduce((a, b) => a + b, 0);
    return Float32Array.from(n.counts, (c) => (s > 0 ? c / s : 1 / k));
  });
  const info: ModelInfo = {
    name: doc.name,
    inputShape: [...doc.inputShape],
    classes: k,
    classNames: doc.classNames ? [...doc.classNames] : undefined,
    output: doc.output,
    domain: { ...doc.domain },
  };
  const nodeIndex = (x: ArrayLike<number>, offset = 0): number => {
    let i = 0;
    for (;;) {
      const n = nodes[i];
      if (n.feature === undefined) return i;
      const v = x[offset + n.feature];
      if (Number.isNaN(v)) return i; // missing feature: stop here (BigML)
      i = v <= n.threshold! ? n.left! : n.right!;
    }
  };
  const depthOf = (i: number): number =>
    nodes[i].feature === undefined ? 0 : 1 + Math.max(depthOf(nodes[i].left!), depthOf(nodes[i].right!));
  return {
    info,
    acceptsMissing: true,
    nodes,
    leafCount: nodes.filter((n) => n.feature === undefined).length,
    depth: depthOf(0),
    nodeIndex: (x) => nodeIndex(x),
    leafId: (x) => nodes[nodeIndex(x)].id,
    predict(x: Tensor): Prediction {
      const n = rowCount(x);
      if (rowSize(x) !== d || x.data.length !== n * d) {
        throw new HeistError(
          'HEIST_ERR_SHAPE',
          `tree "${info.name}" needs rows of ${d} values, got shape [${x.shape.join(', ')}]`,
        );
      }
      const out = new Int32Array(n);
      const leafIds = new Array<string>(n);
      const scores = doc.output === 'probs' ? new Float32Array(n * k) : undefined;
      for (let r = 0; r < n; r++) {
        const i = nodeIndex(x.data, r * d);
        out[r] = labels[i];
        leafIds[r] = nodes[i].id;
        scores?.set(probs[i], r * k);
      }
      return scores
        ? { kind: 'probs', labels: out, scores: { data: scores, shape: [n, k] }, leafIds }
        : { kind: 'label', labels: out, leafIds };
    },
    toJSON: () => doc,
    close: async () => {},
  };
}

export function parseTreeJson(input: unknown, source = 'tree'): TreeJson {
  const r = treeJsonSchema.safeParse(input);
  if (!r.success) {
    throw new HeistError(
      'HEIST_ERR_BAD_MODEL',
      `${source} is not a ${TREE_FORMAT} document: ${z.prettifyError(r.error)}`,
      { details: r.error.issues },
    );
  }
  return r.data as TreeJson;
}

/** True for file names this module loads (`*.tree.json`). */
export function isTreeFile(path: string): boolean {
  return path.endsWith('.tree.json');
}

export function loadTreeModel(path: string): TreeModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `cannot read tree model ${path}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `${path} is not JSON`, { cause });
  }
  return treeModel(parseTreeJson(parsed, path));
}

export function saveTreeModel(path: string, model: TreeModel | TreeJson): void {
  const doc = 'toJSON' in model ? model.toJSON() : model;
  writeFileSync(path, `${JSON.stringify(doc)}\n`);
}
