/**
 * @file Trains the small victims that the demo and the tests use, from fixed seeds, and writes them
 * to models/<scenario>.onnx with a summary in models/README.md's table (printed here). Rebuild with
 * `npm run make-models`; the result is deterministic for a given machine's floating point.
 */
import { join } from 'node:path';
import { modelsDir } from '../src/datasets/paths.js';
import { runTrain } from '../src/runs/train-run.js';

const only = process.argv.slice(2);
const names = only.length > 0 ? only : ['digits-mlp', 'breast-cancer-logreg', 'mnist-cnn', 'fmnist-cnn'];
for (const scenario of names) {
  const r = await runTrain({ scenario, seed: 0, out: join(modelsDir, `${scenario}.onnx`) });
  process.stdout.write(
    `| ${scenario} | ${r.arch} | ${r.trainRows} | ${r.testRows} | ${r.testAccuracy.toFixed(4)} | ${r.onnxMaxAbsDiff.toExponential(2)} | ${(r.wallMs / 1000).toFixed(1)} s |\n`,
  );
}
