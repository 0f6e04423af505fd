/**
 * @file Gateway throughput: predictions per second over real loopback HTTP at batch 1 and 256
 * (load from a separate process, bench/http-load.ts, keep-alive, several requests in flight),
 * beside bare onnxruntime-node inference on the same model in the same run.
 * Run alone: node --import tsx bench/gateway.ts [model.onnx]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { repoRoot } from '../src/datasets/paths.js';
import { pathToFileURL } from 'node:url';
import { createRng } from '../src/core/rng.js';
import { inputSize } from '../src/core/prediction.js';
import { modelsDir } from '../src/datasets/paths.js';
import { loadOnnxModel } from '../src/backends/onnx-model.js';
import { startGateway } from '../src/runs/serve-run.js';

const IN_FLIGHT = 8;

function rows(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => Math.round(rng.next() * 1000) / 1000));
}

async function timeLoop(totalRows: number, batch: number, send: (i: number) => Promise<void>): Promise<number> {
  const calls = Math.ceil(totalRows / batch);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < calls) await send(next++);
    }),
  );
  return (calls * batch) / ((performance.now() - t0) / 1000);
}

export async function benchGateway(
  modelPath = join(modelsDir, 'mnist-cnn.onnx'),
): Promise<Record<string, number | string>> {
  const model = await loadOnnxModel(modelPath);
  const d = inputSize(model.info);
  const gw = await startGateway({ anonymous: true, models: [modelPath], port: 0 });
  const url = `${gw.url}/v1/models/${gw.modelNames[0]}/predict`;
  const result: Record<string, number | string> = { model: gw.modelNames[0], inputSize: d, inFlight: IN_FLIGHT };
  try {
    for (const [batch, total] of [
      [1, 2000],
      [256, 256 * 40],
    ] as const) {
      const data = rows(batch, d, batch);
      const flat = new Float32Array(data.flat());
      const x = { data: flat, shape: [batch, ...model.info.inputShape] };
      await model.predict(x); // warm-up
      const bare = await timeLoop(total, batch, async () => {
        await model.predict(x);
      });
      const load = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          join(repoRoot, 'bench/http-load.ts'),
          url,
          String(batch),
          String(Math.ceil(total / batch)),
          String(IN_FLIGHT),
          String(d),
        ],
        { cwd: repoRoot },
      );
      const http = (JSON.parse(load.stdout) as { rowsPerSecond: number }).rowsPerSecond;
      result[`batch${batch}_bare_onnxruntime_predictions_per_s`] = Math.round(bare);
      result[`batch${batch}_gateway_http_predictions_per_s`] = Math.round(http);
      result[`batch${batch}_gateway_over_bare_ratio`] = Math.round((http / bare) * 1000) / 1000;
    }
  } finally {
    await gw.close();
    await model.close();
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchGateway(process.argv[2]);
  for (const [k, v] of Object.entries(r)) process.stdout.write(`${k}: ${v}\n`);
}
