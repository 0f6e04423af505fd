/**
 * @file The data inputs of a step graph (ort-train-graph.ts) for onnxruntime: the first `rows`
 * rows of x and of the targets, and the two scalars. The parameters are fed beside them. One place
 * for the main thread's step (ort-net.ts), a worker's slice (ort-step-worker.ts) and the profiler.
 */
import { Tensor } from 'onnxruntime-node';
import { STEP_IO } from './ort-train-graph.js';

/**
 * `invN` scales the loss (1 / batch rows for a mean); `scale` the gradient of the logits, invN by
 * default, 1 for each row's own input gradient.
 */
export function stepFeeds(
  x: Float32Array,
  targets: Float32Array,
  rows: number,
  inputShape: readonly number[],
  classes: number,
  invN: number,
  scale = invN,
): Record<string, Tensor> {
  const d = inputShape.reduce((a, b) => a * b, 1);
  const inv = new Tensor('float32', Float32Array.of(invN), []);
  return {
    [STEP_IO.x]: new Tensor('float32', x.subarray(0, rows * d), [rows, ...inputShape]),
    [STEP_IO.targets]: new Tensor('float32', targets.subarray(0, rows * classes), [rows, classes]),
    [STEP_IO.invN]: inv,
    [STEP_IO.scale]: scale === invN ? inv : new Tensor('float32', Float32Array.of(scale), []),
  };
}
