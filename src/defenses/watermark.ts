/**
 * @file A DAWN-style watermark: a transform stage that changes the answers to a keyed fraction of
 * queries in a way only the key holder can recognise, so that a model trained on the answers (a
 * stolen copy) can later be identified by replaying those queries (`heist verify watermark`).
 * Per input row x: h = HMAC-SHA-256(K, x) (row-key.ts) with K = HMAC-SHA-256(deployment secret,
 * "heist.watermark/v1"), so the watermark key is derived from, and never equal to, the secret that
 * keys other stages' randomness. The row is selected when the first 32 bits of h, as an unsigned
 * integer, are below rate x 2^32; its watermark class is w = (y + 1 + (h[4..8] mod (K - 1))) mod K,
 * where y is the model's own top-1 label and K the number of classes: uniform over the classes
 * other than y, and the same every time the same input comes back (so repeating a query neither
 * averages the watermark away nor reveals it).
 * Two modes:
 * - `label` (DAWN's own, Szyller et al.): the served top-1 becomes w (probabilities of y and w are
 *   swapped; a label-only answer is w). It works against label-trained copies too, and it CHANGES
 *   THE TOP-1 LABEL of every selected query, so honest top-1 accuracy falls by about `rate`.
 * - `runner-up` (Heist's variant for score-serving APIs): top-1 is kept; w becomes the runner-up
 *   (its probability is swapped with the runner-up's, then w's mass is raised by mixing in a
 *   one-hot at w with weight min(strength, 0.9 x (p_y - p_w) / (1 + p_y - p_w)), which keeps y the
 *   strict top-1). A copy trained on the scores learns the runner-up. Top-1 is never changed, so
 *   honest accuracy is untouched; verification needs the suspect's scores. Label-only and logit
 *   answers pass through unchanged in this mode.
 * Verification counts the watermarked inputs on which the suspect's top-1 (label mode) or runner-up
 * (runner-up mode) is w. A model that never saw the watermarked answers is independent of the key,
 * so each input matches with probability at most 1/(K - 1); the p-value is the binomial upper tail
 * under that null (src/core/binomial.ts).
 * @see S. Szyller, B. G. Atli, S. Marchal, N. Asokan, "DAWN: Dynamic Adversarial Watermarking of Neural Networks", ACM Multimedia 2021, arXiv:1906.00830.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { argmaxRows, rowCount, rowSize } from '../core/tensor.js';
import { MIN_SECRET_BYTES } from './gaussian-noise.js';
import { rowHmac } from './row-key.js';
import type { Defense, DefenseEntry } from './types.js';

export const watermarkModes = ['label', 'runner-up'] as const;
export type WatermarkMode = (typeof watermarkModes)[number];

export interface WatermarkOptions {
  /** The fraction of distinct inputs watermarked, in (0, 0.5]. */
  readonly rate: number;
  /** Default 'label' (DAWN). */
  readonly mode?: WatermarkMode;
  /** runner-up mode: the most mass moved onto the watermark class, in (0, 0.5]; default 0.25. */
  readonly strength?: number;
}

/** The watermark key derived from the deployment secret (what verification recomputes). */
export function watermarkKey(secret: Buffer): Buffer {
  return createHmac('sha256', secret).update('heist.watermark/v1').digest();
}

/** Whether row `x` is watermarked, and its watermark class given the model's top-1 `label`. */
export function watermarkMark(
  key: Buffer,
  x: Float32Array,
  rate: number,
  classes: number,
  label: number,
): { readonly selected: boolean; readonly target: number } {
  const h = rowHmac(key, x);
  const selected = h.readUInt32LE(0) < rate * 2 ** 32 && classes >= 2;
  const target = classes >= 2 ? (label + 1 + (h.readUInt32LE(4) % (classes - 1))) % classes : label;
  return { selected, target };
}

/** One row's scores (float64 copy) with the label-mode swap applied. */
function labelSwap(row: Float64Array, y: number, w: number): void {
  const t = row[y];
  row[y] = row[w];
  row[w] = t;
}

/** One row's scores with the runner-up-mode change applied (y stays the strict top-1). */
function runnerUp(row: Float64Array, y: number, w: number, strength: number): void {
  let r = -1;
  for (let j = 0; j < row.length; j++) if (j !== y && (r < 0 || row[j] > row[r])) r = j;
  if (r >= 0 && r !== w) {
    const t = row[r];
    row[r] = row[w];
    row[w] = t;
  }
  const gap = row[y] - row[w];
  if (!(gap > 0)) return;
  const beta = Math.min(strength, (0.9 * gap) / (1 + gap));
  for (let j = 0; j < row.length; j++) row[j] *= 1 - beta;
  row[w] += beta;
}

export function watermark(options: WatermarkOptions, secret: Buffer | undefined): Defense {
  const { rate } = options;
  const mode = options.mode ?? 'label';
  const strength = options.strength ?? 0.25;
  if (!(rate > 0 && rate <= 0.5))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `watermark: rate must be in (0, 0.5], got ${rate}`);
  if (!(strength > 0 && strength <= 0.5))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `watermark: strength must be in (0, 0.5], got ${strength}`);
  if (secret === undefined || secret.length < MIN_SECRET_BYTES)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `watermark: this stage needs a secret of at least ${MIN_SECRET_BYTES} bytes to derive its key ` +
        `(${secret === undefined ? 'none was given' : `got ${secret.length} bytes`}); the gateway passes one per deployment (secretEnv)`,
    );
  const key = watermarkKey(secret);
  return {
    name: 'watermark',
    transform(ctx, out): Prediction {
      if (out.kind === 'logits') return out;
      const raw = ctx.raw ?? out;
      const n = rowCount(ctx.inputs);
      const d = rowSize(ctx.inputs);
      const k = out.scores ? rowSize(out.scores) : ctx.model.classes;
      // targets[i]: row i's watermark class, or -1 when the row is not selected.
      const targets = new Int32Array(n).fill(-1);
      let selected = 0;
      for (let i = 0; i < n; i++) {
        const m = watermarkMark(key, ctx.inputs.data.subarray(i * d, (i + 1) * d), rate, k, raw.labels[i] ?? 0);
        if (m.selected) {
          targets[i] = m.target;
          selected++;
        }
      }
      if (selected === 0) return out;
      if (out.kind === 'label' || !out.scores) {
        if (mode !== 'label') return out;
        return { ...out, labels: Int32Array.from(out.labels, (l, i) => (targets[i] >= 0 ? targets[i] : l)) };
      }
      const data = Float32Array.from(out.scores.data);
      const row = new Float64Array(k);
      for (let i = 0; i < n; i++) {
        const w = targets[i];
        if (w < 0) continue;
        const y = raw.labels[i] ?? 0;
        for (let j = 0; j < k; j++) row[j] = data[i * k + j];
        if (mode === 'label') labelSwap(row, y, w);
        else runnerUp(row, y, w, strength);
        for (let j = 0; j < k; j++) data[i * k + j] = row[j];
      }
      const scores = { data, shape: [...out.scores.shape] };
      const labels = argmaxRows(scores);
      // An exact tie after the swap would let argmax's lower-id rule undo the mark: label mode serves w.
      if (mode === 'label') for (let i = 0; i < n; i++) if (targets[i] >= 0) labels[i] = targets[i];
      return { ...out, labels, scores };
    },
  };
}

export const watermarkEntry: DefenseEntry<WatermarkOptions> = {
  name: 'watermark',
  summary:
    'DAWN-style watermark: a keyed fraction of inputs get a keyed wrong top-1 (label mode) or runner-up (runner-up mode), for `heist verify watermark`',
  paper:
    'S. Szyller, B. G. Atli, S. Marchal, N. Asokan, "DAWN: Dynamic Adversarial Watermarking of Neural Networks", ACM Multimedia 2021, arXiv:1906.00830',
  options: z
    .object({
      rate: z.number().gt(0).max(0.5),
      mode: z.enum(watermarkModes).optional(),
      strength: z.number().gt(0).max(0.5).optional(),
    })
    .strict(),
  example: { rate: 0.05, mode: 'label' },
  phases: ['transform'],
  changesLabels: true,
  changesLabelsWith: (o) => (o.mode ?? 'label') === 'label',
  create: (o, deps) => watermark(o, deps.secret),
};
