/**
 * @file Hand-written backward passes ("shims") that keep the wasm backend on its fast paths:
 * wasm has no Conv2DBackpropFilter kernel, its Conv2DBackpropInput and MaxPoolGrad kernels are
 * 10x slower than a forward conv, and matmul with a transposed operand leaves the XNNPACK path.
 * Every function here is pure tf ops, so it runs on any backend (tests compare against 'cpu').
 */
import * as tf from '@tensorflow/tfjs';

export type Pad = 'same' | 'valid';

/** Explicit [top,bottom],[left,right] padding of a stride-1 conv ('same' assumes odd kernels). */
function padAmounts(kh: number, kw: number, pad: Pad): [[number, number], [number, number]] {
  if (pad === 'valid')
    return [
      [0, 0],
      [0, 0],
    ];
  const t = Math.floor((kh - 1) / 2);
  const l = Math.floor((kw - 1) / 2);
  return [
    [t, kh - 1 - t],
    [l, kw - 1 - l],
  ];
}

/** y = act(x @ w + b) with the fused wasm kernel. */
export function denseForward(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, relu: boolean): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: w, bias: b, activation: relu ? 'relu' : 'linear' }) as tf.Tensor2D;
}

/** Gradients of y = x @ w + b given dy; operands are transposed explicitly (fast matmul path). */
export function denseBackward(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  dy: tf.Tensor2D,
  needDx: boolean,
): { dx?: tf.Tensor2D; dw: tf.Tensor2D; db: tf.Tensor1D } {
  const dw = tf.matMul(tf.transpose(x), dy) as tf.Tensor2D;
  const db = tf.sum(dy, 0) as tf.Tensor1D;
  const dx = needDx ? (tf.matMul(dy, tf.transpose(w)) as tf.Tensor2D) : undefined;
  return { dx, dw, db };
}

/** Stride-1 conv with bias (and ReLU) through the fused kernel. */
export function conv2dForward(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, pad: Pad, relu: boolean): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: w, bias: b, strides: 1, pad, activation: relu ? 'relu' : 'linear' });
}

/**
 * dW of a stride-1 conv. One input channel: im2col in channel-first order and one plain matmul.
 * Otherwise: a forward conv of x (batch and channel axes swapped) with dy (as [h, w, n, cout]) as filter.
 */
export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, pad: Pad): tf.Tensor4D {
  const [n, h, w, cin] = x.shape;
  const [, oh, ow, cout] = dy.shape;
  const [[pt, pb], [pl, pr]] = padAmounts(kh, kw, pad);
  if (cin === 1) {
    const xp = tf.pad(tf.reshape(x, [n, h, w]), [
      [0, 0],
      [pt, pb],
      [pl, pr],
    ]);
    const cols: tf.Tensor3D[] = [];
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) cols.push(tf.slice(xp, [0, i, j], [n, oh, ow]) as tf.Tensor3D);
    const patches = tf.reshape(tf.stack(cols, 0), [kh * kw, n * oh * ow]);
    return tf.reshape(tf.matMul(patches, tf.reshape(dy, [n * oh * ow, cout])), [kh, kw, 1, cout]);
  }
  const xt = tf.transpose(x, [3, 1, 2, 0]);
  const filt = tf.transpose(dy, [1, 2, 0, 3]);
  const out = tf.conv2d(xt, filt, 1, [
    [0, 0],
    [pt, pb],
    [pl, pr],
    [0, 0],
  ]);
  return tf.transpose(out, [1, 2, 0, 3]);
}

/** dX of a stride-1 conv: a forward conv of dy with the 180-degree rotated, in/out-swapped kernel. */
export function conv2dBackpropInput(dy: tf.Tensor4D, w: tf.Tensor4D, pad: Pad): tf.Tensor4D {
  const [kh, kw] = w.shape;
  const [[pt, pb], [pl, pr]] = padAmounts(kh, kw, pad);
  const wr = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
  return tf.conv2d(dy, wr, 1, [
    [0, 0],
    [kh - 1 - pt, kh - 1 - pb],
    [kw - 1 - pl, kw - 1 - pr],
    [0, 0],
  ]);
}

/** Bias gradient of a conv: sum over batch, rows and columns. */
export function conv2dBiasGrad(dy: tf.Tensor4D): tf.Tensor1D {
  const c = dy.shape[3];
  return tf.sum(tf.reshape(dy, [-1, c]), 0);
}

/** Non-overlapping max-pool (window = stride = size, 'valid'). */
export function maxPoolForward(x: tf.Tensor4D, size: number): tf.Tensor4D {
  return tf.maxPool(x, size, size, 'valid');
}

/**
 * dX of a non-overlapping max-pool from its input x, output y and dy: upsample dy and y (nearest),
 * and route the gradient to the positions that equal the window max (ties all receive it).
 */
export function maxPoolBackward(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, size: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, ph, pw] = y.shape;
  const uh = ph * size;
  const uw = pw * size;
  const xc = uh === h && uw === w ? x : (tf.slice(x, [0, 0, 0, 0], [n, uh, uw, c]) as tf.Tensor4D);
  const yUp = tf.image.resizeNearestNeighbor(y, [uh, uw]);
  const gUp = tf.image.resizeNearestNeighbor(dy, [uh, uw]);
  // mask = 1 where x equals its window max: step(yUp - x) is 0 exactly there, 1 elsewhere.
  const dx = tf.sub(gUp, tf.mul(gUp, tf.step(tf.sub(yUp, xc)))) as tf.Tensor4D;
  return uh === h && uw === w
    ? dx
    : tf.pad(dx, [
        [0, 0],
        [0, h - uh],
        [0, w - uw],
        [0, 0],
      ]);
}

/** dX of y = relu(x), from the output y. */
export function reluBackward<T extends tf.Tensor>(y: T, dy: T): T {
  return tf.mul(dy, tf.step(y));
}

/**
 * Mean cross-entropy between softmax(logits) and target distributions (rows summing to 1),
 * computed through log-softmax; returns the loss and d loss / d logits = (softmax - t) / n.
 */
export function softmaxCrossEntropy(
  logits: tf.Tensor2D,
  targets: tf.Tensor2D,
): { loss: tf.Scalar; dlogits: tf.Tensor2D } {
  const n = logits.shape[0];
  const logp = tf.logSoftmax(logits);
  const loss = tf.div(tf.neg(tf.sum(tf.mul(targets, logp))), n) as tf.Scalar;
  const dlogits = tf.div(tf.sub(tf.exp(logp), targets), n) as tf.Tensor2D;
  return { loss, dlogits };
}
