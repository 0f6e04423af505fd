/**
 * @file What a training engine builds: a NetworkSpec-shaped classifier that fits with mini-batch
 * Adam on cross-entropy, predicts probabilities and reports gradients. Engines live in
 * train-engines.ts; surrogates/create.ts is their one user, so nothing above backends/ knows which
 * engine runs.
 */
export interface NetFitOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** 'cosine' anneals the rate from learningRate to 0 over the fit (Loshchilov & Hutter, SGDR, arXiv:1608.03983). */
  readonly schedule?: 'constant' | 'cosine';
  /** Optional host-side augmentation of each mini-batch ([rows, ...inputShape] values, in place). */
  readonly augment?: (batch: Float32Array, rows: number) => void;
  /** Called once per epoch with a row order to use (a permutation of 0..n-1, shuffled in place). */
  readonly shuffle: (order: Int32Array) => void;
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

export interface NetFitResult {
  readonly epochs: number;
  readonly samplesSeen: number;
  readonly finalLoss: number;
}

export interface TrainNet {
  readonly inputShape: readonly number[];
  readonly classes: number;
  /** Current weights (copies), in spec order (kernel, bias per dense/conv layer) and spec layout. */
  readWeights(): Float32Array[];
  /** Replaces every weight (same shapes as the spec). */
  writeWeights(values: readonly Float32Array[]): void;
  /** Softmax probabilities for n rows of flat inputs. */
  predictProbs(data: Float32Array, n: number): Promise<Float32Array> | Float32Array;
  /** Mean cross-entropy and its gradients (spec order and layout) on n rows: one full batch, no update. */
  gradients(
    x: Float32Array,
    targets: Float32Array,
    n: number,
  ): Promise<{ loss: number; grads: Float32Array[] }> | { loss: number; grads: Float32Array[] };
  /**
   * Input gradients: row i is d CE(softmax(f(x_i)), targets_i) / d x_i (each row's own loss, not
   * the mean), flat like x. What attacks crafted on a substitute need (FGSM, PGD, Jacobian-based
   * augmentation, DeepFool).
   */
  inputGradients(x: Float32Array, targets: Float32Array, n: number): Promise<Float32Array> | Float32Array;
  /** Mini-batch Adam on cross-entropy to `targets` ([n, classes] rows summing to 1). */
  fit(x: Float32Array, targets: Float32Array, n: number, o: NetFitOptions): Promise<NetFitResult>;
  dispose(): void;
}
