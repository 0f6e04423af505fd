/**
 * @file The forensic half of the watermark (watermark.ts): given the watermarked inputs, their
 * watermark classes and a suspect model's answers to them, how many match and how unlikely that
 * is for a model that never saw the watermarked answers. Null hypothesis: the suspect's answers are
 * independent of the watermark key. Each input's watermark class is then uniform over the K - 1
 * classes other than the victim's top-1, whatever the suspect answers, so each input matches with
 * probability at most 1/(K - 1) (exactly that when the suspect's ranked class is never the victim's
 * top-1) and the matches are stochastically below Bin(n, 1/(K - 1)). The p-value is that binomial's
 * upper tail at the observed count, computed in log space (so 2^-1000 is still a number).
 * @see S. Szyller, B. G. Atli, S. Marchal, N. Asokan, "DAWN: Dynamic Adversarial Watermarking of Neural Networks", ACM Multimedia 2021, arXiv:1906.00830 (verification by watermark accuracy).
 */
import { logBinomialUpperTail } from '../core/binomial.js';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import type { WatermarkMode } from './watermark.js';

/** The class a suspect's answer is compared at: its top-1 (label mode) or its runner-up. */
export function suspectClasses(p: Prediction, mode: WatermarkMode): Int32Array {
  if (mode === 'label') return Int32Array.from(p.labels);
  if (!p.scores || p.kind === 'label')
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      "runner-up watermarks are verified on the suspect's scores, and this suspect answers labels only",
    );
  const k = p.scores.shape[1] ?? 0;
  const out = new Int32Array(p.labels.length);
  for (let i = 0; i < out.length; i++) {
    const top = p.labels[i] ?? 0;
    let r = -1;
    for (let j = 0; j < k; j++) {
      if (j === top) continue;
      if (r < 0 || (p.scores.data[i * k + j] ?? 0) > (p.scores.data[i * k + r] ?? 0)) r = j;
    }
    out[i] = r;
  }
  return out;
}

export interface WatermarkVerdict {
  /** Watermarked inputs the suspect answered. */
  readonly queried: number;
  /** Of those, how many it answered with the watermark class. */
  readonly matched: number;
  readonly classes: number;
  /** The null's per-input match probability bound, 1/(K - 1). */
  readonly nullMatchRate: number;
  /** log2 of the one-sided p-value P(Bin(queried, nullMatchRate) >= matched). */
  readonly log2PValue: number;
  /** The p-value itself (0 when it underflows float64; read log2PValue then). */
  readonly pValue: number;
  /** The null hypothesis, in words, for reports. */
  readonly nullHypothesis: string;
}

export function watermarkVerdict(matched: number, queried: number, classes: number): WatermarkVerdict {
  if (classes < 2) throw new HeistError('HEIST_ERR_BAD_DATA', `a watermark needs at least 2 classes, got ${classes}`);
  const nullMatchRate = 1 / (classes - 1);
  const ln = logBinomialUpperTail(queried, matched, nullMatchRate);
  return {
    queried,
    matched,
    classes,
    nullMatchRate,
    log2PValue: ln / Math.LN2,
    pValue: Math.exp(ln),
    nullHypothesis: `the suspect is independent of the watermark key: each watermarked input matches with probability at most 1/(${classes} - 1)`,
  };
}
