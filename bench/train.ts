/**
 * @file `npm run bench -- train`: the training engines beside PyTorch, in one run.
 * - Throughput (samples/s, batch 128, Adam, random data) of the MLP 784-256-128-10 and the CNN of
 *   docs/scenarios.md: Heist's onnxruntime engine at 1 and 2 intra-op threads and with 2 workers
 *   (each mini-batch split across two threads, HEIST_TRAIN_WORKERS=2), the tfjs-wasm engine (one
 *   thread), and PyTorch at 1 and 2 threads whenever some python3 on the machine imports torch
 *   (bench/torch_train.py). Each figure is measured `repeats` times (default 5) for at least
 *   `seconds` of training after a warm-up, Heist and PyTorch back to back in each repeat; medians
 *   are reported beside the runs, and the ratio is the median of the paired ratios.
 * - Achieved GFLOP/s (analytic FLOPs of a training step) beside the machine's measured peak: a
 *   1024^3 float32 matmul in onnxruntime (MLAS) and in PyTorch, at the same thread counts.
 * - The mnist-cnn soft-label curve (100 to 3,000 queries, seed 0, over HTTP) with each engine, the
 *   onnxruntime one alone and with 2 workers, each run 3 times (interleaved): median time and
 *   fidelity per budget; and for each onnxruntime setting, the median wall time of 3 runs (queries
 *   and fit included) of the cheapest fresh attack, among the curve's budgets, that reaches fidelity
 *   0.96, with the cheaper ones that fell short.
 * Run alone: node --import tsx bench/train.ts [--no-curve]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../src/backends/onnx-graph.js';
import { closeIdleStepWorkers } from '../src/backends/step-parallel.js';
import { createTrainNet } from '../src/backends/train-engines.js';
import { createRng } from '../src/core/rng.js';
import { repoRoot } from '../src/datasets/paths.js';
import type { NetworkSpec } from '../src/models/network-spec.js';
import { cnnSpec, initWeights, mlpSpec } from '../src/surrogates/index.js';
import { benchCurve } from './curve.js';
import { median } from './gateway-child.js';

const BATCH = 128;

export interface TrainBenchOptions {
  readonly repeats?: number;
  readonly seconds?: number;
  readonly curve?: boolean;
  /** Runs of each curve and of the time to fidelity (default 3). */
  readonly curveRepeats?: number;
}

interface Figure {
  readonly runs: number[];
  readonly median: number;
}

function figure(runs: number[]): Figure {
  return { runs: runs.map((r) => Math.round(r)), median: Math.round(median(runs)) };
}

const archs: Record<'mlp' | 'cnn', () => NetworkSpec> = {
  mlp: () => mlpSpec({ inputShape: [784], classes: 10, hidden: [256, 128] }),
  cnn: () => cnnSpec({ inputShape: [28, 28, 1], classes: 10 }),
};

/**
 * FLOPs of one training sample: 2 per multiply-add of the forward pass, the same again for the
 * weight gradients, and again for the input gradients of every layer but the first.
 */
export function trainFlopsPerSample(spec: NetworkSpec): number {
  let shape = [...spec.inputShape];
  let flops = 0;
  let first = true;
  for (const l of spec.layers) {
    if (l.type === 'dense') {
      const macs = l.inputs * l.units;
      flops += 2 * macs * (first ? 2 : 3);
      first = false;
      shape = [l.units];
    } else if (l.type === 'conv2d') {
      const [h, w] = shape;
      const oh = l.padding === 'same' ? h : h - l.kernelSize[0] + 1;
      const ow = l.padding === 'same' ? w : w - l.kernelSize[1] + 1;
      const macs = oh * ow * l.filters * l.kernelSize[0] * l.kernelSize[1] * l.inChannels;
      flops += 2 * macs * (first ? 2 : 3);
      first = false;
      shape = [oh, ow, l.filters];
    } else if (l.type === 'maxpool2d') shape = [Math.floor(shape[0] / l.size), Math.floor(shape[1] / l.size), shape[2]];
    else if (l.type === 'flatten') shape = [shape.reduce((a, b) => a * b, 1)];
  }
  return flops;
}

/** A warmed-up net on random data; each `run(seconds)` trains for that long and returns samples/s. */
async function trainer(
  engine: string,
  arch: 'mlp' | 'cnn',
  threads: number,
  workers = 1,
): Promise<{ run: (seconds: number) => Promise<number>; dispose: () => void }> {
  const spec = initWeights(archs[arch](), createRng(1));
  const d = spec.inputShape.reduce((a, b) => a * b, 1);
  const rows = 20 * BATCH;
  const rng = createRng(2);
  const x = Float32Array.from({ length: rows * d }, () => rng.next());
  const t = new Float32Array(rows * 10);
  for (let i = 0; i < rows; i++) t[i * 10 + rng.int(10)] = 1;
  const net = await createTrainNet(spec, engine, threads, workers);
  const o = { epochs: 1, batchSize: BATCH, learningRate: 1e-3, shuffle: () => undefined };
  await net.fit(x.subarray(0, 4 * BATCH * d), t.subarray(0, 40 * BATCH), 4 * BATCH, o);
  return {
    run: async (seconds) => {
      let samples = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000) {
        await net.fit(x, t, rows, o);
        samples += rows;
      }
      return samples / ((performance.now() - t0) / 1000);
    },
    dispose: () => net.dispose(),
  };
}

/** A 1024^3 float32 MatMul in onnxruntime (MLAS) at `threads`; each call measures GFLOP/s for a second. */
async function ortSgemm(threads: number): Promise<{ run: () => Promise<number>; dispose: () => Promise<void> }> {
  const n = 1024;
  const g = new OnnxGraphBuilder('sgemm');
  g.input('a', [n, n]);
  g.input('b', [n, n]);
  g.node('MatMul', ['a', 'b'], ['c']);
  g.output('c', [n, n]);
  const s = await InferenceSession.create(g.encode({ opset: 13 }), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const a = new Tensor('float32', new Float32Array(n * n).fill(0.5), [n, n]);
  const b = new Tensor('float32', new Float32Array(n * n).fill(0.25), [n, n]);
  await s.run({ a, b });
  return {
    run: async () => {
      let k = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 1000) {
        await s.run({ a, b });
        k++;
      }
      return (2 * n ** 3 * k) / ((performance.now() - t0) / 1000) / 1e9;
    },
    dispose: () => s.release(),
  };
}

/** The first python3 on the machine that imports torch (Debian's python3-torch is for /usr/bin/python3). */
export function torchPython(): string | undefined {
  const candidates = [
    process.env.HEIST_BENCH_PYTHON,
    'python3',
    '/usr/bin/python3',
    '/usr/local/bin/python3',
    'python',
  ];
  for (const py of candidates) {
    if (!py) continue;
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
      return py;
    } catch {
      // not this one
    }
  }
  return undefined;
}

interface TorchRun {
  readonly torch: string;
  readonly mlp: number;
  readonly cnn: number;
  readonly sgemm: number;
}

/** One repeat of bench/torch_train.py (a fresh process each time, so that it interleaves with Heist's). */
function torchRun(py: string, threads: number, seconds: number): TorchRun {
  const out = JSON.parse(
    execFileSync(py, [join(repoRoot, 'bench/torch_train.py'), String(threads), '1', String(seconds)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  ) as { torch: string; mlp_samples_per_s: number[]; cnn_samples_per_s: number[]; sgemm_gflops: number[] };
  return { torch: out.torch, mlp: out.mlp_samples_per_s[0], cnn: out.cnn_samples_per_s[0], sgemm: out.sgemm_gflops[0] };
}

interface FreshAttack {
  readonly target: number;
  readonly queries: number;
  /** The median of `runsS` where the attack was repeated. */
  readonly wallS: number;
  readonly runsS?: number[];
  readonly fitS: number;
  readonly fidelity: number;
}

export interface TrainBenchResult {
  readonly settings: { batch: number; repeats: number; seconds: number };
  readonly flopsPerSample: { mlp: number; cnn: number };
  readonly threads: Record<
    string,
    {
      heist: { mlp: Figure; cnn: Figure; gflops: { mlp: number; cnn: number } };
      /** At 2 threads: one intra-op thread each, every mini-batch split across them (HEIST_TRAIN_WORKERS). */
      heistWorkers?: { mlp: Figure; cnn: Figure; gflops: { mlp: number; cnn: number } };
      pytorch?: { torch: string; mlp: Figure; cnn: Figure; gflops: { mlp: number; cnn: number } };
      /** Median over repeats of Heist / PyTorch, each repeat measured back to back. */
      heistOverPytorch?: { mlp: number; cnn: number };
      heistWorkersOverPytorch?: { mlp: number; cnn: number };
      peakGflops: { onnxruntimeSgemm: Figure; pytorchSgemm?: Figure };
    }
  >;
  readonly tfjsWasm: { mlp: Figure; cnn: Figure; gflops: { mlp: number; cnn: number } };
  readonly pytorchNote?: string;
  readonly curve?: {
    readonly scenario: string;
    readonly labels: 'soft';
    /** By setting: `onnxruntime`, `onnxruntime-2-workers` and `tfjs-wasm` (the engine before this one). */
    /** wallS: the median of runsS; each point's fitS: the median over the runs. */
    readonly engines: Record<
      string,
      {
        workers: number;
        wallS: number;
        runsS: number[];
        points: { queries: number; fidelity: number; fitS: number }[];
      }
    >;
    /** Each onnxruntime setting's curve against tfjs-wasm's: median paired wall-time ratio, largest fidelity difference. */
    readonly speedup: Record<string, number>;
    readonly maxFidelityDiff: Record<string, number>;
    /** For each onnxruntime setting, the first fresh attack that reached the target; `shortfalls`: the cheaper ones that did not. */
    readonly timeToFidelity: Record<string, FreshAttack & { shortfalls: FreshAttack[] }>;
  };
}

const gflops = (samplesPerS: number, flops: number): number => +((samplesPerS * flops) / 1e9).toFixed(1);

export async function benchTraining(o: TrainBenchOptions = {}): Promise<TrainBenchResult> {
  const repeats = o.repeats ?? 5;
  const seconds = o.seconds ?? 3;
  const flopsPerSample = { mlp: trainFlopsPerSample(archs.mlp()), cnn: trainFlopsPerSample(archs.cnn()) };
  const py = torchPython();
  const log = (s: string): void => {
    process.stderr.write(`${s}\n`);
  };
  const threads: TrainBenchResult['threads'] = {};
  for (const n of [1, 2]) {
    log(`train bench: ${n} thread(s)`);
    const mlpNet = await trainer('onnxruntime', 'mlp', n);
    const cnnNet = await trainer('onnxruntime', 'cnn', n);
    const split =
      n > 1
        ? { mlp: await trainer('onnxruntime', 'mlp', 1, n), cnn: await trainer('onnxruntime', 'cnn', 1, n) }
        : undefined;
    const sgemm = await ortSgemm(n);
    const runs = {
      mlp: [] as number[],
      cnn: [] as number[],
      mlpSplit: [] as number[],
      cnnSplit: [] as number[],
      sgemm: [] as number[],
    };
    const torchRuns: TorchRun[] = [];
    // Repeats interleave Heist and PyTorch so that both see the same moment of a shared machine.
    for (let r = 0; r < repeats; r++) {
      runs.mlp.push(await mlpNet.run(seconds));
      runs.cnn.push(await cnnNet.run(seconds));
      if (split) {
        runs.mlpSplit.push(await split.mlp.run(seconds));
        runs.cnnSplit.push(await split.cnn.run(seconds));
      }
      runs.sgemm.push(await sgemm.run());
      if (py) torchRuns.push(torchRun(py, n, seconds));
    }
    mlpNet.dispose();
    cnnNet.dispose();
    split?.mlp.dispose();
    split?.cnn.dispose();
    await sgemm.dispose();
    const mlp = figure(runs.mlp);
    const cnn = figure(runs.cnn);
    const mlpSplit = figure(runs.mlpSplit);
    const cnnSplit = figure(runs.cnnSplit);
    const tm = figure(torchRuns.map((t) => t.mlp));
    const tc = figure(torchRuns.map((t) => t.cnn));
    const paired = (ours: number[], theirs: number[]): number => +median(ours.map((v, i) => v / theirs[i])).toFixed(2);
    const overTorch = (mlpRuns: number[], cnnRuns: number[]) => ({
      mlp: paired(
        mlpRuns,
        torchRuns.map((t) => t.mlp),
      ),
      cnn: paired(
        cnnRuns,
        torchRuns.map((t) => t.cnn),
      ),
    });
    threads[String(n)] = {
      heist: {
        mlp,
        cnn,
        gflops: { mlp: gflops(mlp.median, flopsPerSample.mlp), cnn: gflops(cnn.median, flopsPerSample.cnn) },
      },
      ...(split
        ? {
            heistWorkers: {
              mlp: mlpSplit,
              cnn: cnnSplit,
              gflops: {
                mlp: gflops(mlpSplit.median, flopsPerSample.mlp),
                cnn: gflops(cnnSplit.median, flopsPerSample.cnn),
              },
            },
          }
        : {}),
      ...(py
        ? {
            pytorch: {
              torch: torchRuns[0].torch,
              mlp: tm,
              cnn: tc,
              gflops: { mlp: gflops(tm.median, flopsPerSample.mlp), cnn: gflops(tc.median, flopsPerSample.cnn) },
            },
            heistOverPytorch: overTorch(runs.mlp, runs.cnn),
            ...(split ? { heistWorkersOverPytorch: overTorch(runs.mlpSplit, runs.cnnSplit) } : {}),
          }
        : {}),
      peakGflops: {
        onnxruntimeSgemm: { runs: runs.sgemm.map((v) => +v.toFixed(1)), median: +median(runs.sgemm).toFixed(1) },
        ...(py
          ? {
              pytorchSgemm: {
                runs: torchRuns.map((t) => t.sgemm),
                median: +median(torchRuns.map((t) => t.sgemm)).toFixed(1),
              },
            }
          : {}),
      },
    };
  }
  log('train bench: tfjs-wasm');
  const tfjsRuns = async (arch: 'mlp' | 'cnn'): Promise<Figure> => {
    const net = await trainer('tfjs-wasm', arch, 1);
    const out: number[] = [];
    for (let r = 0; r < repeats; r++) out.push(await net.run(seconds));
    net.dispose();
    return figure(out);
  };
  const tmlp = await tfjsRuns('mlp');
  const tcnn = await tfjsRuns('cnn');
  const result: TrainBenchResult = {
    settings: { batch: BATCH, repeats, seconds },
    flopsPerSample,
    threads,
    tfjsWasm: {
      mlp: tmlp,
      cnn: tcnn,
      gflops: { mlp: gflops(tmlp.median, flopsPerSample.mlp), cnn: gflops(tcnn.median, flopsPerSample.cnn) },
    },
    ...(py ? {} : { pytorchNote: 'no python3 on this machine imports torch (apt-get install -y python3-torch)' }),
  };
  if (o.curve === false) return result;
  const settings = [
    { key: 'onnxruntime', engine: 'onnxruntime', workers: 1 },
    { key: 'onnxruntime-2-workers', engine: 'onnxruntime', workers: 2 },
    { key: 'tfjs-wasm', engine: 'tfjs-wasm', workers: 1 },
  ];
  const curveRepeats = o.curveRepeats ?? 3;
  const engines: NonNullable<TrainBenchResult['curve']>['engines'] = {};
  const walls: Record<string, number[]> = {};
  const fits: Record<string, number[][]> = {};
  // Each repeat runs every setting once, so that a slow spell of the shared machine falls on all of
  // them; the speed-up is the median of the repeats' paired ratios.
  for (let r = 0; r < curveRepeats; r++) {
    for (const c of settings) {
      log(`train bench: mnist-cnn soft curve, ${c.key}, run ${r + 1} of ${curveRepeats}`);
      const res = await withWorkers(c.workers, () =>
        benchCurve('mnist-cnn', undefined, 0, { labels: ['soft'], engine: c.engine }),
      );
      const points = res.curves.soft;
      const first = engines[c.key];
      if (!first)
        engines[c.key] = {
          workers: c.workers,
          wallS: 0,
          runsS: [],
          points: points.map((p) => ({ queries: p.queries, fidelity: p.fidelity, fitS: 0 })),
        };
      else if (points.some((p, i) => p.fidelity !== first.points[i]?.fidelity))
        throw new Error(`the ${c.key} curve changed between runs with the same seed`);
      walls[c.key] = [...(walls[c.key] ?? []), res.wallMs.soft / 1000];
      fits[c.key] = points.map((p, i) => [...(fits[c.key]?.[i] ?? []), p.fitMs / 1000]);
    }
  }
  for (const c of settings) {
    const e = engines[c.key];
    engines[c.key] = {
      ...e,
      wallS: +median(walls[c.key]).toFixed(1),
      runsS: walls[c.key].map((w) => +w.toFixed(1)),
      points: e.points.map((p, i) => ({ ...p, fitS: +median(fits[c.key][i]).toFixed(1) })),
    };
  }
  const before = engines['tfjs-wasm'];
  const speedup: Record<string, number> = {};
  const maxFidelityDiff: Record<string, number> = {};
  const timeToFidelity: NonNullable<TrainBenchResult['curve']>['timeToFidelity'] = {};
  for (const c of settings.filter((x) => x.engine === 'onnxruntime')) {
    const ours = engines[c.key];
    speedup[c.key] = +median(walls['tfjs-wasm'].map((w, r) => w / walls[c.key][r])).toFixed(2);
    maxFidelityDiff[c.key] = +Math.max(
      ...ours.points.map((p, i) => Math.abs(p.fidelity - (before.points[i]?.fidelity ?? Number.NaN))),
    ).toFixed(4);
    const t = await withWorkers(c.workers, () => timeToTarget(ours.points, 0.96, curveRepeats, log));
    if (t) timeToFidelity[c.key] = t;
  }
  return {
    ...result,
    curve: { scenario: 'mnist-cnn', labels: 'soft', engines, speedup, maxFidelityDiff, timeToFidelity },
  };
}

/** Runs `f` with HEIST_TRAIN_WORKERS set to `workers` (the engines read it when a net is built). */
async function withWorkers<T>(workers: number, f: () => Promise<T>): Promise<T> {
  const keep = process.env.HEIST_TRAIN_WORKERS;
  process.env.HEIST_TRAIN_WORKERS = String(workers);
  try {
    return await f();
  } finally {
    if (keep === undefined) delete process.env.HEIST_TRAIN_WORKERS;
    else process.env.HEIST_TRAIN_WORKERS = keep;
  }
}

/**
 * The wall time of the cheapest fresh attack that reaches `target`. A fresh attack (one fit, no
 * earlier checkpoints) buys a different sample than the curve's run at the same budget, so it may
 * fall short where the curve did not: the curve's budgets are tried from the first that reached
 * the target until a fresh attack reaches it too. Not reached at any budget: the last attempt
 * stands, marked by its fidelity.
 */
async function timeToTarget(
  curve: readonly { queries: number; fidelity: number }[],
  target: number,
  repeats: number,
  log: (s: string) => void,
): Promise<(FreshAttack & { shortfalls: FreshAttack[] }) | undefined> {
  const attack = async (queries: number) => {
    log(`train bench: a fresh attack at ${queries} queries`);
    // Cold, as in a new process: the pool's worker threads start again (step-parallel.ts).
    await closeIdleStepWorkers();
    const single = await benchCurve('mnist-cnn', queries, 0, {
      labels: ['soft'],
      engine: 'onnxruntime',
      checkpoints: false,
    });
    const last = single.curves.soft[single.curves.soft.length - 1];
    return { wallS: single.wallMs.soft / 1000, fitS: last.fitMs / 1000, fidelity: last.fidelity };
  };
  const shortfalls: FreshAttack[] = [];
  const first = curve.findIndex((p) => p.fidelity >= target);
  for (const p of first < 0 ? [] : curve.slice(first)) {
    const a = await attack(p.queries);
    const attempt: FreshAttack = {
      target,
      queries: p.queries,
      wallS: +a.wallS.toFixed(2),
      fitS: +a.fitS.toFixed(2),
      fidelity: a.fidelity,
    };
    if (attempt.fidelity < target) {
      shortfalls.push(attempt);
      continue;
    }
    // The same seeded attack again: the fidelity is the same, the time is the median.
    const runs = [a];
    for (let r = 1; r < repeats; r++) runs.push(await attack(p.queries));
    return {
      ...attempt,
      wallS: +median(runs.map((x) => x.wallS)).toFixed(2),
      fitS: +median(runs.map((x) => x.fitS)).toFixed(2),
      runsS: runs.map((x) => +x.wallS.toFixed(2)),
      shortfalls,
    };
  }
  const shown = shortfalls.pop();
  return shown && { ...shown, shortfalls };
}

/** The figures as a table for the terminal. */
export function trainTable(r: TrainBenchResult): string {
  const lines = [
    '| threads | model | Heist onnxruntime | PyTorch | Heist / PyTorch | Heist GFLOP/s | PyTorch GFLOP/s | peak (MLAS / torch sgemm) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [n, t] of Object.entries(r.threads)) {
    const row = (
      label: string,
      h: { mlp: Figure; cnn: Figure; gflops: { mlp: number; cnn: number } },
      ratio?: { mlp: number; cnn: number },
    ) => {
      for (const m of ['mlp', 'cnn'] as const)
        lines.push(
          `| ${label} | ${m} | ${h[m].median} | ${t.pytorch?.[m].median ?? 'n/a'} | ${ratio?.[m] ?? 'n/a'} | ${h.gflops[m]} | ${t.pytorch?.gflops[m] ?? 'n/a'} | ${t.peakGflops.onnxruntimeSgemm.median} / ${t.peakGflops.pytorchSgemm?.median ?? 'n/a'} |`,
        );
    };
    row(n, t.heist, t.heistOverPytorch);
    if (t.heistWorkers) row(`${n} workers`, t.heistWorkers, t.heistWorkersOverPytorch);
  }
  lines.push(`tfjs-wasm (1 thread): mlp ${r.tfjsWasm.mlp.median}, cnn ${r.tfjsWasm.cnn.median} samples/s`);
  if (r.pytorchNote) lines.push(r.pytorchNote);
  if (r.curve) {
    for (const [e, c] of Object.entries(r.curve.engines))
      lines.push(
        `curve ${e}: ${c.wallS} s (runs ${c.runsS.join(', ')}); ${c.points.map((p) => `${p.queries}:${p.fidelity}`).join('  ')}`,
      );
    for (const [e, x] of Object.entries(r.curve.speedup)) {
      lines.push(`curve ${e}: ${x}x the speed of tfjs-wasm, largest fidelity difference ${r.curve.maxFidelityDiff[e]}`);
      const t = r.curve.timeToFidelity[e];
      if (!t) continue;
      const reached = t.fidelity >= t.target ? '' : ' (not reached at any budget of the curve)';
      const short = t.shortfalls.map((f) => `${f.queries} queries: ${f.fidelity} in ${f.wallS} s`).join('; ');
      lines.push(
        `${e}: time to fidelity ${t.target}: ${t.wallS} s at ${t.queries} queries (fit ${t.fitS} s, fidelity ${t.fidelity}${t.runsS ? `; runs ${t.runsS.join(', ')}` : ''})${reached}${short ? `; short of it: ${short}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchTraining({ curve: !process.argv.includes('--no-curve') });
  process.stdout.write(`${trainTable(r)}\n`);
}
