/**
 * @file The input-domain policy: every model declares the range its inputs live in (ModelInfo.domain).
 * Values outside it are refused (400 HEIST_ERR_OUT_OF_DOMAIN), or clipped into range and flagged.
 * Missing features (NaN, trees only) are left alone.
 */
import { HeistError } from '../core/errors.js';
import type { InputDomain } from '../core/prediction.js';
import type { Tensor } from '../core/tensor.js';

export type DomainPolicy = 'reject' | 'clip';

/** The inputs to serve, and whether any value was clipped. Throws on 'reject'. */
export function applyDomain(x: Tensor, domain: InputDomain, policy: DomainPolicy): { x: Tensor; clipped: boolean } {
  const { min, max } = domain;
  const d = x.data;
  let first = -1;
  for (let i = 0; i < d.length; i++) {
    if (d[i] < min || d[i] > max) {
      first = i;
      break;
    }
  }
  if (first < 0) return { x, clipped: false };
  if (policy === 'reject') {
    const width = d.length / x.shape[0];
    throw new HeistError(
      'HEIST_ERR_OUT_OF_DOMAIN',
      `row ${Math.floor(first / width)}, value ${first % width} is ${d[first]}, outside the model's input domain [${min}, ${max}]`,
    );
  }
  const out = Float32Array.from(d, (v) => (v < min ? min : v > max ? max : v));
  return { x: { data: out, shape: x.shape }, clipped: true };
}
