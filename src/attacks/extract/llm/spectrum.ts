/**
 * @file The linear algebra of the attack (paper §4): stack n logit vectors as the rows of Q [n, V];
 * Q = G W^T has rank h, so (§4.1) h is where the singular values drop: the index of the largest
 * multiplicative gap s_i / s_{i+1}; and (§4.2) W is recovered up to an h x h transform as
 * V_h diag(s_h) from Q = U S V^T (the paper's U·S, with its Q transposed to rows-as-queries).
 * Verification: least-squares alignment W_hat X ≈ W, RMS of the residual over all V*h entries.
 * @see N. Carlini et al., "Stealing Part of a Production Language Model", ICML 2024, arXiv:2403.06634, §4
 */
import { type DenseMatrix, denseMatrix, lstsq } from '../../../backends/linalg.js';
import { thinSvd } from '../../../backends/svd.js';
import { HeistError } from '../../../core/errors.js';

export interface SpectrumResult {
  /** Singular values of Q, descending. */
  readonly singularValues: Float64Array;
  /** Recovered hidden size: index (1-based) of the largest multiplicative gap. */
  readonly hiddenSize: number;
  /** s_h / s_{h+1}: how clear the drop is (>= 1e3 is unambiguous). */
  readonly gapRatio: number;
  /** [V, h]: W up to an h x h transform. */
  readonly projection: DenseMatrix;
}

export function largestGap(s: Float64Array): { index: number; ratio: number } {
  const floor = Math.max(s[0], Number.MIN_VALUE) * 1e-300;
  let index = 1;
  let ratio = 0;
  for (let i = 0; i + 1 < s.length; i++) {
    const r = s[i] / Math.max(s[i + 1], floor);
    if (r > ratio) {
      ratio = r;
      index = i + 1;
    }
  }
  return { index, ratio };
}

/** SVD of the stacked logit rows; hidden size from the spectrum; W_hat = V_h diag(s_h). */
export function analyseLogits(rows: readonly Float64Array[]): SpectrumResult {
  if (rows.length < 2) throw new HeistError('HEIST_ERR_BAD_CONFIG', 'need at least two logit vectors');
  const vocab = rows[0].length;
  const q = denseMatrix(rows.length, vocab);
  rows.forEach((r, i) => {
    q.data.set(r, i * vocab);
  });
  const { s, v } = thinSvd(q);
  const { index: h, ratio } = largestGap(s);
  const w = denseMatrix(vocab, h);
  for (let t = 0; t < vocab; t++) for (let k = 0; k < h; k++) w.data[t * h + k] = v.data[t * v.cols + k] * s[k];
  return { singularValues: s, hiddenSize: h, gapRatio: ratio, projection: w };
}

export interface Alignment {
  /** RMS of W_hat X - W over all entries, X the least-squares h x h transform. */
  readonly rms: number;
  /** rms / RMS(W). */
  readonly relative: number;
  readonly transform: DenseMatrix;
}

/** Aligns the recovered projection to a known W [V, h] (verification only: an attacker has no W). */
export function alignProjection(recovered: DenseMatrix, truth: DenseMatrix): Alignment {
  if (recovered.rows !== truth.rows)
    throw new HeistError('HEIST_ERR_SHAPE', `recovered has ${recovered.rows} rows, W has ${truth.rows}`);
  const fit = lstsq(recovered, truth);
  let sq = 0;
  for (const r of fit.residualRms) sq += r * r;
  const rms = Math.sqrt(sq / fit.residualRms.length);
  let norm = 0;
  for (const v of truth.data) norm += v * v;
  return { rms, relative: rms / Math.sqrt(norm / truth.data.length), transform: fit.x };
}

/** W - 1 w_r^T: what logits relative to reference token r identify. */
export function relativeToReference(w: DenseMatrix, reference: number): DenseMatrix {
  const out = denseMatrix(w.rows, w.cols, w.data);
  for (let t = 0; t < w.rows; t++)
    for (let k = 0; k < w.cols; k++) out.data[t * w.cols + k] -= w.data[reference * w.cols + k];
  return out;
}
