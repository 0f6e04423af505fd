/**
 * @file Predictions cut into rows and glued back together: what http.ts (maxBatch splits), the
 * query client's cache (per-row answers) and its splitter (per-call chunks) share.
 * A merged answer keeps probabilities only when every part has them; otherwise it is label-only.
 */
import { HeistError } from '../core/errors.js';
import { type ModelInfo, type Prediction, predictionRows } from '../core/prediction.js';

/** One row's answer. */
export interface RowAnswer {
  readonly label: number;
  readonly probs?: Float32Array;
  /** The answering tree node's identifier, when the target returns one (Prediction.leafIds). */
  readonly leaf?: string;
}

export function rowAnswer(p: Prediction, i: number): RowAnswer {
  const label = p.labels[i];
  const leaf = p.leafIds?.[i];
  if (!p.scores) return leaf === undefined ? { label } : { label, leaf };
  const k = p.scores.shape[1] ?? 0;
  const probs = p.scores.data.slice(i * k, (i + 1) * k);
  return leaf === undefined ? { label, probs } : { label, probs, leaf };
}

export function rowAnswers(p: Prediction): RowAnswer[] {
  const n = predictionRows(p);
  const out: RowAnswer[] = [];
  for (let i = 0; i < n; i++) out.push(rowAnswer(p, i));
  return out;
}

/** Builds a Prediction from per-row answers (probabilities kept only if every row has them). */
export function fromRowAnswers(
  rows: readonly RowAnswer[],
  classes: number,
  kind: Prediction['kind'] = 'probs',
): Prediction {
  const labels = Int32Array.from(rows, (r) => r.label);
  // Leaf identifiers are kept only when every row has one (like probabilities).
  const leaves =
    rows.length > 0 && rows.every((r) => r.leaf !== undefined) ? { leafIds: rows.map((r) => r.leaf!) } : {};
  const allProbs = kind !== 'label' && rows.every((r) => r.probs !== undefined);
  if (!allProbs) return { kind: 'label', labels, ...leaves };
  const data = new Float32Array(rows.length * classes);
  rows.forEach((r, i) => {
    if (r.probs!.length !== classes) {
      throw new HeistError('HEIST_ERR_UPSTREAM', `row ${i} has ${r.probs!.length} probabilities, expected ${classes}`);
    }
    data.set(r.probs!, i * classes);
  });
  return { kind, labels, scores: { data, shape: [rows.length, classes] }, ...leaves };
}

/** Stacks the answers of consecutive calls, in order. */
export function concatPredictions(parts: readonly Prediction[], classes: number): Prediction {
  if (parts.length === 1) return parts[0];
  const kind = parts.find((p) => p.kind !== 'label')?.kind ?? 'label';
  return fromRowAnswers(parts.flatMap(rowAnswers), classes, kind);
}

/** The answer to zero rows, in the model's declared output kind. */
export function emptyPrediction(info: Pick<ModelInfo, 'classes' | 'output'>): Prediction {
  if (info.output === 'label') return { kind: 'label', labels: new Int32Array(0) };
  return {
    kind: info.output,
    labels: new Int32Array(0),
    scores: { data: new Float32Array(0), shape: [0, info.classes] },
  };
}
