/**
 * @file The small generator of the data-free strategy: z ~ N(0, I) -> dense + ReLU -> dense, whose
 * outputs are pre-activations `a`; a row is x = min + (max - min) * sigmoid(a), so every row it
 * makes lies inside the target's declared domain. Plain TypeScript over Float32Arrays (it is a few
 * hundred thousand weights, trained one mini-batch per bought batch), with Adam. Training is
 * gradient *ascent* on an objective whose gradient with respect to `a` the caller supplies
 * (data-free.ts: forward differences of the target's answers, and terms through the substitute).
 * @see J.-B. Truong et al., "Data-Free Model Extraction", CVPR 2021, arXiv:2011.14779.
 */
import type { Rng } from '../core/rng.js';
import { JsAdam } from '../backends/tfjs-adam.js';

export interface GeneratorShape {
  readonly latent: number;
  readonly hidden: number;
  readonly outputs: number;
}

/** What one forward pass keeps for its backward pass. */
export interface GeneratorPass {
  readonly n: number;
  readonly z: Float32Array;
  /** Hidden activations after ReLU, [n, hidden]. */
  readonly h: Float32Array;
  /** Pre-activations of the rows, [n, outputs]. */
  readonly a: Float32Array;
}

export class MlpGenerator {
  private readonly w1: Float32Array;
  private readonly b1: Float32Array;
  private readonly w2: Float32Array;
  private readonly b2: Float32Array;
  private readonly adam: JsAdam;

  /** He-uniform first layer (before ReLU), Glorot-uniform second, zero biases; all from `rng`. */
  constructor(
    readonly shape: GeneratorShape,
    rng: Rng,
    learningRate: number,
    /** Initial bias of every output. */
    outputBias = 0,
  ) {
    const { latent, hidden, outputs } = shape;
    const uniform = (n: number, limit: number) => Float32Array.from({ length: n }, () => rng.uniform(-limit, limit));
    this.w1 = uniform(latent * hidden, Math.sqrt(6 / latent));
    this.b1 = new Float32Array(hidden);
    this.w2 = uniform(hidden * outputs, Math.sqrt(6 / (hidden + outputs)));
    this.b2 = new Float32Array(outputs).fill(outputBias);
    this.adam = new JsAdam([this.w1.length, this.b1.length, this.w2.length, this.b2.length], { learningRate });
  }

  /** n latent rows drawn from N(0, I). */
  sampleLatent(n: number, rng: Rng): Float32Array {
    return Float32Array.from({ length: n * this.shape.latent }, () => rng.normal());
  }

  forward(z: Float32Array): GeneratorPass {
    const { latent, hidden, outputs } = this.shape;
    const n = z.length / latent;
    const h = new Float32Array(n * hidden);
    const a = new Float32Array(n * outputs);
    for (let i = 0; i < n; i++) {
      const hi = h.subarray(i * hidden, (i + 1) * hidden);
      hi.set(this.b1);
      for (let k = 0; k < latent; k++) {
        const zk = z[i * latent + k];
        const wk = this.w1.subarray(k * hidden, (k + 1) * hidden);
        for (let j = 0; j < hidden; j++) hi[j] += zk * wk[j];
      }
      for (let j = 0; j < hidden; j++) if (hi[j] < 0) hi[j] = 0;
      const ai = a.subarray(i * outputs, (i + 1) * outputs);
      ai.set(this.b2);
      for (let j = 0; j < hidden; j++) {
        const hj = hi[j];
        if (hj === 0) continue;
        const wj = this.w2.subarray(j * outputs, (j + 1) * outputs);
        for (let o = 0; o < outputs; o++) ai[o] += hj * wj[o];
      }
    }
    return { n, z, h, a };
  }

  /**
   * One Adam step that increases the objective, given dObjective/da for the pass's rows
   * (already averaged over the batch by the caller).
   */
  ascend(pass: GeneratorPass, da: Float32Array): void {
    const { latent, hidden, outputs } = this.shape;
    const { n, z, h } = pass;
    const gw1 = new Float32Array(this.w1.length);
    const gb1 = new Float32Array(hidden);
    const gw2 = new Float32Array(this.w2.length);
    const gb2 = new Float32Array(outputs);
    const dh = new Float32Array(hidden);
    for (let i = 0; i < n; i++) {
      const di = da.subarray(i * outputs, (i + 1) * outputs);
      const hi = h.subarray(i * hidden, (i + 1) * hidden);
      for (let o = 0; o < outputs; o++) gb2[o] += di[o];
      for (let j = 0; j < hidden; j++) {
        const hj = hi[j];
        // A unit the ReLU cut off passes no gradient, and adds none to its outgoing weights.
        dh[j] = 0;
        if (hj === 0) continue;
        const wj = this.w2.subarray(j * outputs, (j + 1) * outputs);
        const gj = gw2.subarray(j * outputs, (j + 1) * outputs);
        let s = 0;
        for (let o = 0; o < outputs; o++) {
          s += wj[o] * di[o];
          gj[o] += hj * di[o];
        }
        dh[j] = s;
      }
      for (let j = 0; j < hidden; j++) gb1[j] += dh[j];
      for (let k = 0; k < latent; k++) {
        const zk = z[i * latent + k];
        const gk = gw1.subarray(k * hidden, (k + 1) * hidden);
        for (let j = 0; j < hidden; j++) gk[j] += zk * dh[j];
      }
    }
    // JsAdam descends: hand it the negated gradient to climb.
    const params = [this.w1, this.b1, this.w2, this.b2];
    const grads = [gw1, gb1, gw2, gb2];
    this.adam.beginStep();
    params.forEach((p, k) => {
      const g = grads[k];
      for (let i = 0; i < g.length; i++) g[i] = -g[i];
      this.adam.update(k, p, g);
    });
  }
}
