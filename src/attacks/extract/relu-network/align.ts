/**
 * @file Comparing an extracted ReLU network with the true one. Hidden units are only defined up
 * to permutation and positive scaling, so both networks are first put in a canonical form (each
 * hidden unit's incoming weights scaled to a largest magnitude of 1, the scale folded into the next
 * layer), then the extracted units are matched to the true ones layer by layer (nearest canonical
 * incoming weights and bias). The error of a layer is max |w_extracted - w_true| / max |w_true|
 * over its weights and biases, the measure behind "2^-20" in Carlini et al.
 * @see N. Carlini, M. Jagielski, I. Mironov, "Cryptanalytic Extraction of Neural Network Models", CRYPTO 2020, arXiv:2003.04884.
 */
import type { DenseLayer64, DenseReluNet } from '../../../models/dense-relu.js';

export interface Alignment {
  /** Relative error per layer (Infinity where the widths differ). */
  readonly layerErrors: number[];
  readonly maxRelError: number;
  /** log2 of maxRelError. */
  readonly bits: number;
}

function canonical(net: DenseReluNet): DenseLayer64[] {
  const layers = net.layers.map((l) => ({
    ...l,
    kernel: Float64Array.from(l.kernel),
    bias: Float64Array.from(l.bias),
  }));
  for (let li = 0; li < layers.length - 1; li++) {
    const l = layers[li];
    const next = layers[li + 1];
    for (let j = 0; j < l.units; j++) {
      let c = 0;
      for (let i = 0; i < l.inputs; i++) c = Math.max(c, Math.abs(l.kernel[i * l.units + j]));
      if (c === 0) continue;
      for (let i = 0; i < l.inputs; i++) l.kernel[i * l.units + j] /= c;
      l.bias[j] /= c;
      for (let o = 0; o < next.units; o++) next.kernel[j * next.units + o] *= c;
    }
  }
  return layers;
}

/** Unit j of layer l as a vector (incoming weights with inputs permuted by `perm`, then bias). */
function unit(l: DenseLayer64, j: number, perm: readonly number[]): number[] {
  return [...perm.map((i) => l.kernel[i * l.units + j]), l.bias[j]];
}

/**
 * Aligns `extracted` to `truth`. `shift`: the output layer is known only up to a per-row shift
 * (probability answers), so output columns are compared relative to class 0.
 */
export function alignNetworks(truth: DenseReluNet, extracted: DenseReluNet, shift = false): Alignment {
  const t = canonical(truth);
  const e = canonical(extracted);
  const errors: number[] = [];
  // perm[i] = the extracted input index that matches true input i.
  let perm = Array.from({ length: t[0].inputs }, (_, i) => i);
  for (let li = 0; li < t.length; li++) {
    const tl = t[li];
    const el = e[li];
    if (!el || el.inputs !== tl.inputs || el.units !== tl.units) {
      errors.push(Infinity);
      break;
    }
    const last = li === t.length - 1;
    const next: number[] = [];
    if (last) for (let j = 0; j < tl.units; j++) next.push(j);
    else {
      const free = new Set(Array.from({ length: el.units }, (_, j) => j));
      for (let j = 0; j < tl.units; j++) {
        const want = [...Array.from({ length: tl.inputs }, (_, i) => tl.kernel[i * tl.units + j]), tl.bias[j]];
        let best = -1;
        let bestD = Infinity;
        for (const c of free) {
          const dist = unit(el, c, perm).reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
          if (dist < bestD) [best, bestD] = [c, dist];
        }
        free.delete(best);
        next.push(best);
      }
    }
    let err = 0;
    let big = 0;
    for (let j = 0; j < tl.units; j++) {
      const tv = [...Array.from({ length: tl.inputs }, (_, i) => tl.kernel[i * tl.units + j]), tl.bias[j]];
      const ev = unit(el, next[j], perm);
      if (shift && last) {
        const t0 = [...Array.from({ length: tl.inputs }, (_, i) => tl.kernel[i * tl.units]), tl.bias[0]];
        const e0 = unit(el, next[0], perm);
        tv.forEach((v, i) => {
          tv[i] = v - t0[i];
        });
        ev.forEach((v, i) => {
          ev[i] = v - e0[i];
        });
      }
      tv.forEach((v, i) => {
        err = Math.max(err, Math.abs(ev[i] - v));
        big = Math.max(big, Math.abs(v));
      });
    }
    errors.push(big > 0 ? err / big : err);
    perm = next;
  }
  const maxRelError = Math.max(...errors);
  return { layerErrors: errors, maxRelError, bits: Math.log2(maxRelError) };
}
