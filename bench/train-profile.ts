/**
 * @file Where a training step of the onnxruntime engine spends its time: runs the engine's
 * gradients graph (ort-train-graph.ts: forward, backward, loss) for the MLP or the CNN of
 * bench/train.ts on random data with onnxruntime's profiler on, then prints the milliseconds per
 * step by op type and the slowest nodes.
 * Run alone: node --import tsx bench/train-profile.ts [cnn|mlp] [batch] [threads]
 * (HEIST_TRAIN_NCHWC=0: the NCHW graph, for comparison)
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { compileUnits } from '../src/backends/net-units.js';
import { runtimeShape } from '../src/backends/ort-net.js';
import { nchwcBlockSize } from '../src/backends/ort-nchwc.js';
import { STEP_IO, buildStepGraph } from '../src/backends/ort-train-graph.js';
import { createRng } from '../src/core/rng.js';
import { cnnSpec, initWeights, mlpSpec } from '../src/surrogates/index.js';

interface ProfileEvent {
  readonly cat?: string;
  readonly name: string;
  readonly dur: number;
  readonly args?: { readonly op_name?: string };
}

export interface StepProfile {
  readonly arch: string;
  readonly batch: number;
  readonly threads: number;
  /** Mean wall time of a session.run. */
  readonly stepMs: number;
  readonly byOp: { op: string; ms: number }[];
  readonly slowestNodes: { node: string; op: string; ms: number }[];
}

export async function profileStep(
  arch: 'cnn' | 'mlp' = 'cnn',
  batch = 128,
  threads = 1,
  steps = 100,
): Promise<StepProfile> {
  const spec = initWeights(
    arch === 'cnn'
      ? cnnSpec({ inputShape: [28, 28, 1], classes: 10 })
      : mlpSpec({ inputShape: [784], classes: 10, hidden: [256, 128] }),
    createRng(1),
  );
  const { units, params, shapes } = compileUnits(spec.layers);
  const runShapes = shapes.map(runtimeShape);
  const nchwcBlock = await nchwcBlockSize();
  const bytes = buildStepGraph(
    { inputShape: spec.inputShape, classes: 10, units, shapes: runShapes, nchwcBlock },
    'gradients',
  );
  const dir = mkdtempSync(join(tmpdir(), 'heist-train-profile-'));
  const session = await InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'extended',
    enableProfiling: true,
    profileFilePrefix: join(dir, 'step'),
  });
  const rng = createRng(2);
  const d = spec.inputShape.reduce((a, b) => a * b, 1);
  const t = new Float32Array(batch * 10);
  for (let i = 0; i < batch; i++) t[i * 10 + rng.int(10)] = 1;
  const feeds: Record<string, Tensor> = {
    [STEP_IO.x]: new Tensor(
      'float32',
      Float32Array.from({ length: batch * d }, () => rng.next()),
      [batch, ...spec.inputShape],
    ),
    [STEP_IO.targets]: new Tensor('float32', t, [batch, 10]),
    [STEP_IO.invN]: new Tensor('float32', Float32Array.of(1 / batch), []),
    [STEP_IO.scale]: new Tensor('float32', Float32Array.of(1 / batch), []),
  };
  params.forEach((p, k) => {
    feeds[STEP_IO.param(k)] = new Tensor('float32', Float32Array.from(p), runShapes[k]);
  });
  for (let i = 0; i < steps; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  // onnxruntime-node returns nothing from endProfiling: the one file under `dir` is the profile.
  const file = readdirSync(dir).find((f) => f.startsWith('step'));
  if (!file) throw new Error(`onnxruntime wrote no profile under ${dir}`);
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
  rmSync(dir, { recursive: true, force: true });
  const runs = events.filter((e) => e.name === 'model_run');
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const byOp = new Map<string, number>();
  const byNode = new Map<string, { op: string; us: number }>();
  for (const e of nodes) {
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    const name = e.name.replace(/_kernel_time$/, '');
    byNode.set(name, { op, us: (byNode.get(name)?.us ?? 0) + e.dur });
  }
  const perStep = (us: number): number => +(us / 1000 / runs.length).toFixed(2);
  return {
    arch,
    batch,
    threads,
    stepMs: perStep(runs.reduce((a, e) => a + e.dur, 0)),
    byOp: [...byOp].map(([op, us]) => ({ op, ms: perStep(us) })).sort((a, b) => b.ms - a.ms),
    slowestNodes: [...byNode]
      .map(([node, v]) => ({ node, op: v.op, ms: perStep(v.us) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 15),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [arch, batch, threads] = process.argv.slice(2);
  const p = await profileStep(arch === 'mlp' ? 'mlp' : 'cnn', Number(batch ?? 128), Number(threads ?? 1));
  process.stdout.write(`${p.arch}, batch ${p.batch}, ${p.threads} thread(s): ${p.stepMs} ms a step\nby op type:\n`);
  for (const o of p.byOp) process.stdout.write(`  ${o.ms.toFixed(2).padStart(7)} ms  ${o.op}\n`);
  process.stdout.write('slowest nodes:\n');
  for (const n of p.slowestNodes) process.stdout.write(`  ${n.ms.toFixed(2).padStart(7)} ms  ${n.node} (${n.op})\n`);
}
