/**
 * @file Training-time augmentation for image substitutes: each image in a mini-batch is translated
 * by a random whole-pixel offset in [-maxShift, maxShift] on both axes (zero fill), keeping its
 * bought label. Small translations do not change a digit's class, and they stretch a few hundred
 * bought answers further (the standard augmentation of the Knockoff Nets training recipe).
 * @see T. Orekondy, B. Schiele, M. Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019, arXiv:1812.02766.
 */
import type { Rng } from '../core/rng.js';

/** In-place random shifts of [rows, h, w, c] images stored row-major. */
export function randomShift(
  shape: readonly number[],
  maxShift: number,
  rng: Rng,
): (batch: Float32Array, rows: number) => void {
  const [h, w, c] = shape;
  const size = h * w * c;
  const scratch = new Float32Array(size);
  return (batch, rows) => {
    for (let r = 0; r < rows; r++) {
      const dy = rng.int(2 * maxShift + 1) - maxShift;
      const dx = rng.int(2 * maxShift + 1) - maxShift;
      if (dx === 0 && dy === 0) continue;
      const img = batch.subarray(r * size, (r + 1) * size);
      scratch.fill(0);
      for (let y = 0; y < h; y++) {
        const sy = y - dy;
        if (sy < 0 || sy >= h) continue;
        for (let x = 0; x < w; x++) {
          const sx = x - dx;
          if (sx < 0 || sx >= w) continue;
          for (let k = 0; k < c; k++) scratch[(y * w + x) * c + k] = img[(sy * w + sx) * c + k];
        }
      }
      img.set(scratch);
    }
  };
}
