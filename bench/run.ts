/**
 * @file `npm run bench [-- train train-profile gateway curve digits defenses ensemble jbda]`
 * (gateway = gateway-throughput, gateway-kill, gateway-hostile and audit-store, each also a target of its own;
 * defenses = the defense matrix; jbda = Papernot's attack and transfer; the default is train,
 * gateway and curve): runs the benchmarks, prints their figures, and writes each as JSON under
 * bench/results/. Ratios are measured against a baseline in the same run (the machines are shared
 * and noisy); PyTorch runs in the same run wherever some python3 imports torch.
 */
import { join } from 'node:path';
import { repoRoot } from '../src/datasets/paths.js';
import { benchCurve } from './curve.js';
import { benchEnsemble, ensembleTable } from './ensemble.js';
import { auditStoreTable, benchAuditStore } from './audit-store.js';
import { benchGateway, gatewayTable } from './gateway.js';
import { benchJbda, jbdaTable } from './jbda.js';
import { writeGatewaySection } from './gateway-child.js';
import { benchGatewayHostile, hostileTable } from './gateway-hostile.js';
import { benchGatewayKill, killTable } from './gateway-kill.js';
import { writeBenchResult } from './results-file.js';
import { runDefenseMatrix } from '../src/runs/defense-matrix-run.js';
import { benchTraining, trainTable } from './train.js';
import { profileStep } from './train-profile.js';
import { benchTranscript, transcriptTable } from './transcript.js';

function write(name: string, body: object): void {
  process.stdout.write(`wrote ${writeBenchResult(name, body)}\n`);
}

const wanted = new Set(process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['train', 'gateway', 'curve']);

if (wanted.has('train')) {
  const r = await benchTraining();
  process.stdout.write(`${trainTable(r)}\n`);
  write('train', { command: 'npm run bench -- train', ...r });
}
// Where a training step's time goes (onnxruntime's profiler, CNN and MLP at batch 128, 1 thread).
if (wanted.has('train-profile')) {
  const r = { cnn: await profileStep('cnn'), mlp: await profileStep('mlp') };
  for (const p of Object.values(r))
    process.stdout.write(
      `${p.arch}: ${p.stepMs} ms a step; ${p.byOp
        .slice(0, 6)
        .map((o) => `${o.op} ${o.ms}`)
        .join(', ')}\n`,
    );
  write('train-profile', { command: 'npm run bench -- train-profile', ...r });
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
// The SQLite audit store alone: CPU per row at batch 1 and 256 (docs/audit.md).
if (wanted.has('gateway') || wanted.has('audit-store')) {
  const r = await benchAuditStore();
  process.stdout.write(`${auditStoreTable(r)}\n`);
  write('audit-store', { command: 'npm run bench -- audit-store', ...r });
}
if (wanted.has('ensemble')) {
  const r = await benchEnsemble();
  process.stdout.write(`${ensembleTable(r)}\n`);
  write('ensemble', r);
}
// Transcript line bytes: the encoder beside the string path it replaced (src/query/transcript-encode.ts).
if (wanted.has('transcript')) {
  const r = benchTranscript();
  process.stdout.write(`${transcriptTable(r)}\n`);
  write('transcript', { command: 'npm run bench -- transcript', ...r });
}
if (wanted.has('curve')) write('mnist-cnn-curve', await benchCurve('mnist-cnn'));
// Papernot et al.'s attack (recipe jbda-papernot-2017) and FGSM/PGD transfer to the victim.
if (wanted.has('jbda')) {
  const r = await benchJbda();
  process.stdout.write(`${jbdaTable(r)}\n`);
  write('jbda', { command: 'npm run bench -- jbda', ...r });
}
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
