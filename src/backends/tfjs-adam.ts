/**
 * @file Adam in plain JS over Float32Arrays (PyTorch's formulation: bias-corrected step,
 * eps added to sqrt(v)/sqrt(1 - beta2^t)). One fused pass per parameter is ~10x faster than the
 * 14 tfjs element-wise kernels of tf.train.adam on wasm. Weights are updated in place.
 */
export interface AdamConfig {
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

export class JsAdam {
  private lr: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;

  constructor(sizes: readonly number[], c: AdamConfig) {
    this.lr = c.learningRate;
    this.b1 = c.beta1 ?? 0.9;
    this.b2 = c.beta2 ?? 0.999;
    this.eps = c.epsilon ?? 1e-8;
    this.m = sizes.map((n) => new Float32Array(n));
    this.v = sizes.map((n) => new Float32Array(n));
  }

  /** Changes the step size (learning-rate schedules); moments are kept. */
  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  /** Starts a step: advances the step count used by the bias corrections. */
  beginStep(): void {
    this.t++;
  }

  /** Updates parameter k in place from its gradient (call once per parameter per step). */
  update(k: number, w: Float32Array, g: Float32Array): void {
    const { b1, b2 } = this;
    const c2 = Math.sqrt(1 - b2 ** this.t);
    const step = (this.lr * c2) / (1 - b1 ** this.t);
    const eps = this.eps * c2;
    const m = this.m[k];
    const v = this.v[k];
    const a1 = 1 - b1;
    const a2 = 1 - b2;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      const mi = b1 * m[i] + a1 * gi;
      const vi = b2 * v[i] + a2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] -= (step * mi) / (Math.sqrt(vi) + eps);
    }
  }
}
