/**
 * @file tfjs entry point: initialises the WebAssembly backend (SIMD, single thread in Node) once,
 * and re-exports the training engine. The only folder that may import @tensorflow/* is this one.
 * The wasm binaries are found next to tfjs-backend-wasm's Node bundle (dist/*.wasm) without
 * setWasmPaths; HEIST_TFJS_BACKEND=cpu forces the pure-JS backend (reference/debugging).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { HeistError } from '../core/errors.js';

export type TfBackendName = 'wasm' | 'cpu';

let ready: Promise<void> | undefined;

/** Idempotent: sets the wasm backend (or HEIST_TFJS_BACKEND) and waits until it is ready. */
export function initTfjs(): Promise<void> {
  if (!ready) {
    ready = (async () => {
      const wanted: TfBackendName = process.env.HEIST_TFJS_BACKEND === 'cpu' ? 'cpu' : 'wasm';
      const ok = await tf.setBackend(wanted);
      await tf.ready();
      if (!ok || tf.getBackend() !== wanted) {
        throw new HeistError('HEIST_ERR_INTERNAL', `cannot start the tfjs '${wanted}' backend`);
      }
    })();
    ready.catch(() => {
      ready = undefined;
    });
  }
  return ready;
}

/** Name of the active tfjs backend (after initTfjs). */
export function tfjsBackend(): string {
  return tf.getBackend();
}

/** Number of live tfjs tensors (leak checks in tests). */
export function tfjsTensorCount(): number {
  return tf.memory().numTensors;
}

export { TfNet } from './tfjs-net.js';
