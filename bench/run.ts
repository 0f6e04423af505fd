/**
 * @file `npm run bench [-- train gateway curve digits defenses ensemble]` (gateway = gateway-throughput,
 * gateway-kill and gateway-hostile, each also a target of its own; defenses = the defense matrix, not
 * run by default): runs the benchmarks, prints their figures, and writes each as JSON under
 * bench/results/. Ratios are measured against a baseline in the same run (the machines are shared
 * and noisy); PyTorch figures are docs/scenarios.md's reference when PyTorch is not installed here.
 */
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../src/datasets/paths.js';
import { benchCurve } from './curve.js';
import { benchEnsemble, ensembleTable } from './ensemble.js';
import { benchGateway, gatewayTable } from './gateway.js';
import { writeGatewaySection } from './gateway-child.js';
import { benchGatewayHostile, hostileTable } from './gateway-hostile.js';
import { benchGatewayKill, killTable } from './gateway-kill.js';
import { writeBenchResult } from './results-file.js';
import { runDefenseMatrix } from '../src/runs/defense-matrix-run.js';
import { benchTraining } from './train.js';

function write(name: string, body: object): void {
  process.stdout.write(`wrote ${writeBenchResult(name, body)}\n`);
}

/** docs/scenarios.md, "Compute reference": PyTorch 2.13 CPU, one core, batch 128, Adam (samples/s ranges). */
const pytorchReference = {
  mlp_784_256_128_10_samples_per_s: { low: 27000, high: 57000 },
  cnn_samples_per_s: { low: 4300, high: 7200 },
};

/** PyTorch measured in this run when it is installed (bench/torch_train.py), else undefined. */
function pytorchMeasured():
  | { mlp_784_256_128_10_samples_per_s: number; cnn_samples_per_s: number; torch: string }
  | undefined {
  try {
    return JSON.parse(
      execFileSync('python3', [join(repoRoot, 'bench/torch_train.py')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
  } catch {
    return undefined;
  }
}

const wanted = new Set(process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['train', 'gateway', 'curve']);

if (wanted.has('train')) {
  const r = await benchTraining();
  const torch = pytorchMeasured();
  const mlp = r.mlp_784_256_128_10_heist_wasm_samples_per_s;
  const cnn = r.cnn_heist_wasm_samples_per_s;
  const ref = torch
    ? {
        mlp: { low: torch.mlp_784_256_128_10_samples_per_s, high: torch.mlp_784_256_128_10_samples_per_s },
        cnn: { low: torch.cnn_samples_per_s, high: torch.cnn_samples_per_s },
      }
    : { mlp: pytorchReference.mlp_784_256_128_10_samples_per_s, cnn: pytorchReference.cnn_samples_per_s };
  const ratios = {
    pytorch_source: torch
      ? `measured in this run (torch ${torch.torch})`
      : 'docs/scenarios.md reference (PyTorch is not installed here)',
    mlp_pytorch_over_heist: { low: +(ref.mlp.low / mlp).toFixed(2), high: +(ref.mlp.high / mlp).toFixed(2) },
    cnn_pytorch_over_heist: { low: +(ref.cnn.low / cnn).toFixed(2), high: +(ref.cnn.high / cnn).toFixed(2) },
  };
  for (const [k, v] of Object.entries(r)) process.stdout.write(`${k}: ${v}\n`);
  process.stdout.write(
    `PyTorch / Heist, MLP: ${ratios.mlp_pytorch_over_heist.low}-${ratios.mlp_pytorch_over_heist.high}x; CNN: ${ratios.cnn_pytorch_over_heist.low}-${ratios.cnn_pytorch_over_heist.high}x\n`,
  );
  write('train', { heist: r, pytorch: torch ?? pytorchReference, ratios });
}
// `gateway` runs the three gateway benches; each also runs alone (gateway-throughput, gateway-kill,
// gateway-hostile). All write their section of bench/results/gateway.json and keep the others.
if (wanted.has('gateway') || wanted.has('gateway-throughput')) {
  const r = await benchGateway();
  process.stdout.write(`${gatewayTable(r)}\nwrote ${writeGatewaySection('throughput', r)}\n`);
}
if (wanted.has('gateway') || wanted.has('gateway-kill')) {
  const r = await benchGatewayKill();
  process.stdout.write(`${killTable(r)}\nwrote ${writeGatewaySection('sigkill', r)}\n`);
}
if (wanted.has('gateway') || wanted.has('gateway-hostile')) {
  const r = await benchGatewayHostile();
  process.stdout.write(`${hostileTable(r)}\nwrote ${writeGatewaySection('hostile', r)}\n`);
}
if (wanted.has('ensemble')) {
  const r = await benchEnsemble();
  process.stdout.write(`${ensembleTable(r)}\n`);
  write('ensemble', r);
}
if (wanted.has('curve')) write('mnist-cnn-curve', await benchCurve('mnist-cnn'));
if (wanted.has('digits')) write('digits-mlp-curve', await benchCurve('digits-mlp'));
// The defense matrix on mnist-cnn at 2,000 queries with the default grid (bench/defense-grid.yaml):
// about 50 s a cell on 2 shared cores, resumable (rerun to continue), docs/defense-matrix.md.
if (wanted.has('defenses')) {
  const r = await runDefenseMatrix(
    { scenario: 'mnist-cnn', budget: 2000, out: join(repoRoot, 'bench/results/defenses') },
    {
      onStart: (e) => process.stdout.write(`defense matrix: ${e.total} cells, ${e.resumed} from ${e.out}/cells\n`),
      onCell: ({ cell: c, done, total, resumed }) =>
        process.stdout.write(
          `${done}/${total} ${c.config} x ${c.attack}: fidelity ${c.fidelity ?? 'n/a'}, delay ${c.detectionDelay ?? 'never'}${resumed ? ' (resumed)' : ''}\n`,
        ),
    },
  );
  const { settings, victimAccuracy, configs, cells } = r.matrix;
  write('defenses', {
    command: 'npm run bench -- defenses',
    settings: { ...settings, grid: 'bench/defense-grid.yaml' },
    victimAccuracy,
    configs,
    cells,
    table: 'bench/results/defenses/matrix.md',
  });
}
