/**
 * @file A fixed bilinear upsampling of [h, w, c] rows (align-corners off, edges clamped), as a
 * linear map with its transpose: the data-free generator makes a coarse image and this enlarges it,
 * as the upsampling layers of DFME's and MAZE's generators do. Coarse rows give a generator smooth
 * shapes from the start, and a forward-difference gradient in the coarse space has factor^2 fewer
 * dimensions to estimate.
 */

interface Tap {
  readonly i0: number;
  readonly i1: number;
  readonly w1: number;
}

/** For each fine coordinate, the two coarse ones it blends and the weight of the second. */
function taps(fine: number, coarse: number): Tap[] {
  return Array.from({ length: fine }, (_, f) => {
    const pos = Math.min(coarse - 1, Math.max(0, ((f + 0.5) * coarse) / fine - 0.5));
    const i0 = Math.floor(pos);
    const i1 = Math.min(coarse - 1, i0 + 1);
    return { i0, i1, w1: pos - i0 };
  });
}

export class Bilinear {
  readonly coarseSize: number;
  readonly fineSize: number;
  private readonly coarseH: number;
  private readonly coarseW: number;
  private readonly rows: Tap[];
  private readonly cols: Tap[];

  /** Fine shape [h, w, c]; coarse [ceil(h / factor), ceil(w / factor), c]. */
  constructor(
    private readonly fine: readonly [number, number, number],
    factor: number,
  ) {
    const [h, w, c] = fine;
    this.coarseH = Math.ceil(h / factor);
    this.coarseW = Math.ceil(w / factor);
    this.coarseSize = this.coarseH * this.coarseW * c;
    this.fineSize = h * w * c;
    this.rows = taps(h, this.coarseH);
    this.cols = taps(w, this.coarseW);
  }

  /** Calls back (fine index, coarse index, weight) for the four taps of every fine value. */
  private each(visit: (fi: number, ci: number, weight: number) => void): void {
    const [h, w, c] = this.fine;
    const cw = this.coarseW;
    for (let r = 0; r < h; r++) {
      const tr = this.rows[r];
      for (let q = 0; q < w; q++) {
        const tq = this.cols[q];
        for (let ch = 0; ch < c; ch++) {
          const fi = (r * w + q) * c + ch;
          visit(fi, (tr.i0 * cw + tq.i0) * c + ch, (1 - tr.w1) * (1 - tq.w1));
          visit(fi, (tr.i0 * cw + tq.i1) * c + ch, (1 - tr.w1) * tq.w1);
          visit(fi, (tr.i1 * cw + tq.i0) * c + ch, tr.w1 * (1 - tq.w1));
          visit(fi, (tr.i1 * cw + tq.i1) * c + ch, tr.w1 * tq.w1);
        }
      }
    }
  }

  /** n coarse rows -> n fine rows. */
  forward(coarse: Float32Array, n: number): Float32Array {
    return this.apply(coarse, n, false);
  }

  /** The transpose: gradients on n fine rows -> gradients on their coarse rows. */
  backward(fine: Float32Array, n: number): Float32Array {
    return this.apply(fine, n, true);
  }

  private apply(input: Float32Array, n: number, transpose: boolean): Float32Array {
    const [inSize, outSize] = transpose ? [this.fineSize, this.coarseSize] : [this.coarseSize, this.fineSize];
    const out = new Float32Array(n * outSize);
    for (let i = 0; i < n; i++) {
      const src = input.subarray(i * inSize, (i + 1) * inSize);
      const dst = out.subarray(i * outSize, (i + 1) * outSize);
      this.each(
        transpose
          ? (fi, ci, wt) => {
              dst[ci] += wt * src[fi];
            }
          : (fi, ci, wt) => {
              dst[fi] += wt * src[ci];
            },
      );
    }
    return out;
  }
}
