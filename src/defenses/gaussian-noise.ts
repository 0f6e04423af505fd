/**
 * @file The Gaussian-noise countermeasure: a transform stage that adds N(0, sigma^2) noise to each
 * served probability, clips it to a small positive floor (1e-6) and renormalises, after IBM ART's
 * `GaussianNoise` postprocessor (option `scale` there, `sigma` here). ART clips at 0 instead, which
 * leaves 0/0 when every noisy value is negative; the floor keeps every served vector a
 * distribution. The noise is deterministic per input: row i's generator (core/rng.ts) is seeded with
 * the first 32 bits of HMAC-SHA-256(secret, row i's float32 bytes, little-endian, -0 read as 0), so
 * identical inputs get identical answers (repeating a query cannot average the noise away) while
 * the noise stays unpredictable without the secret, which comes from `DefenseDeps.secret` (one per
 * deployment; the factory refuses to build without one of at least 16 bytes). A client that changes
 * an input slightly gets fresh noise: this keys randomness, it does not hide the model.
 * It CAN CHANGE THE TOP-1 LABEL (noise flips close calls): the served label is the argmax of the
 * served vector (lower class id on ties), and the entry declares `changesLabels: true`.
 * Measured top-1 label kept (test/defenses/label-changes.test.ts: the digits-mlp victim on its 450
 * evaluation rows, with that test's secret): 445/450 (98.89%) at sigma = 0.1 (the example option);
 * 449/450 (99.78%) at sigma = 0.05; 439/450 (97.56%) at sigma = 0.2.
 * Logits and label-only answers pass through unchanged.
 * @see M.-I. Nicolae et al., "Adversarial Robustness Toolbox v1.0.0", arXiv:1807.01069, and its `art/defences/postprocessor/gaussian_noise.py` (the formula; ART cites no paper for this postprocessor).
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { createRng } from '../core/rng.js';
import { type Tensor, argmaxRows, rowCount, rowSize } from '../core/tensor.js';
import { rowHmac } from './row-key.js';
import type { Defense, DefenseEntry } from './types.js';

export interface GaussianNoiseOptions {
  /** Standard deviation of the noise added to each probability, > 0 (ART's default 0.2). */
  readonly sigma: number;
}

/** Noisy values are clipped up to this before renormalising, so no row can lose all its mass. */
export const NOISE_FLOOR = 1e-6;

/** The shortest secret accepted: a guessable key makes the noise predictable, hence removable. */
export const MIN_SECRET_BYTES = 16;

/** The 32-bit seed of one input row: HMAC-SHA-256(secret, canonical little-endian float32 bytes). */
export function rowSeed(secret: Buffer, values: Float32Array): number {
  return rowHmac(secret, values).readUInt32LE(0);
}

/** Each row of `scores` plus its own seeded noise, floored and renormalised; `inputs` row i keys row i. */
export function noisyRows(scores: Tensor, inputs: Tensor, sigma: number, secret: Buffer): Float32Array {
  const n = rowCount(scores);
  const classes = rowSize(scores);
  const d = rowSize(inputs);
  const out = new Float32Array(scores.data.length);
  const row = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    const rng = createRng(rowSeed(secret, inputs.data.subarray(i * d, (i + 1) * d)));
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const v = Math.max(scores.data[i * classes + j] + sigma * rng.normal(), NOISE_FLOOR);
      row[j] = v;
      sum += v;
    }
    for (let j = 0; j < classes; j++) out[i * classes + j] = row[j] / sum;
  }
  return out;
}

export function gaussianNoise(options: GaussianNoiseOptions, secret: Buffer | undefined): Defense {
  const { sigma } = options;
  if (!Number.isFinite(sigma) || sigma <= 0)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `gaussian-noise: sigma must be a finite number > 0, got ${sigma}`);
  if (secret === undefined || secret.length < MIN_SECRET_BYTES)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `gaussian-noise: this stage needs a secret of at least ${MIN_SECRET_BYTES} bytes to key its per-input noise ` +
        `(${secret === undefined ? 'none was given' : `got ${secret.length} bytes`}); the gateway passes one per deployment`,
    );
  const key = Buffer.from(secret); // a private copy: later changes to the caller's buffer change nothing
  return {
    name: 'gaussian-noise',
    requires: { scores: true },
    transform(ctx, out): Prediction {
      if (!out.scores || out.kind === 'label' || out.kind === 'logits') return out;
      const scores = { data: noisyRows(out.scores, ctx.inputs, sigma, key), shape: [...out.scores.shape] };
      return { ...out, labels: argmaxRows(scores), scores };
    },
  };
}

export const gaussianNoiseEntry: DefenseEntry<GaussianNoiseOptions> = {
  name: 'gaussian-noise',
  summary:
    'serve probabilities plus N(0, sigma^2) noise keyed by a secret and the input, renormalised (may change the label)',
  paper:
    'M.-I. Nicolae et al., "Adversarial Robustness Toolbox v1.0.0", arXiv:1807.01069 (the GaussianNoise postprocessor)',
  options: z.object({ sigma: z.number().finite().positive() }).strict(),
  example: { sigma: 0.1 },
  phases: ['transform'],
  changesLabels: true,
  create: (o, deps) => gaussianNoise(o, deps.secret),
};
