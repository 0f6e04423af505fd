/**
 * @file Training throughput (samples/s) at batch 128 with Adam on random data, after a warm-up:
 * the MLP 784-256-128-10 and the CNN, with Heist's wasm engine (shims) and with tfjs as shipped
 * (tf.layers + trainOnBatch; the CNN as shipped only runs on the pure-JS cpu backend).
 * Run alone: node --import tsx bench/train.ts
 */
import { pathToFileURL } from 'node:url';
import { createRng } from '../src/core/rng.js';
import { tensor } from '../src/core/tensor.js';
import { shippedSamplesPerSecond } from '../src/backends/tfjs-shipped.js';
import { createSurrogate } from '../src/surrogates/index.js';
import type { Arch } from '../src/surrogates/types.js';

const BATCH = 128;

async function heistSamplesPerSecond(arch: Arch, inputShape: number[], rows: number): Promise<number> {
  const rng = createRng(1);
  const d = inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(rows * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  const labels = Int32Array.from({ length: rows }, () => rng.int(10));
  const s = await createSurrogate(
    arch,
    { inputShape, classes: 10, hidden: arch === 'mlp' ? [256, 128] : undefined },
    rng,
  );
  const data = { x: tensor(x, [rows, ...inputShape]), labels };
  const opts = { loss: 'hard' as const, epochs: 1, batchSize: BATCH, learningRate: 1e-3, rng };
  await s.fit(
    { x: tensor(x.subarray(0, 4 * BATCH * d), [4 * BATCH, ...inputShape]), labels: labels.subarray(0, 4 * BATCH) },
    opts,
  );
  const t0 = performance.now();
  await s.fit(data, opts);
  const sec = (performance.now() - t0) / 1000;
  s.dispose();
  return rows / sec;
}

export async function benchTraining(): Promise<Record<string, number>> {
  const r: Record<string, number> = {};
  r.mlp_784_256_128_10_heist_wasm_samples_per_s = await heistSamplesPerSecond('mlp', [784], 60 * BATCH);
  r.cnn_heist_wasm_samples_per_s = await heistSamplesPerSecond('cnn', [28, 28, 1], 20 * BATCH);
  r.mlp_784_256_128_10_shipped_wasm_samples_per_s = await shippedSamplesPerSecond('mlp', 'wasm', BATCH, 10);
  r.mlp_784_256_128_10_shipped_cpu_samples_per_s = await shippedSamplesPerSecond('mlp', 'cpu', BATCH, 3);
  for (const k of Object.keys(r)) r[k] = Math.round(r[k]);
  return r;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchTraining();
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(50)} ${v}`);
}
