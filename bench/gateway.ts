/**
 * @file Gateway throughput beside its peers, in one run: bare in-process onnxruntime-node, the
 * undefended gateway (anonymous, no audit), the audited gateway (API key, SQLite audit; JSON and
 * binary bodies) and a FastAPI + PyTorch server with the same network and weights, at batch 1 and
 * 256, 8 requests in flight, load from a separate process (bench/http-load.ts). Each gateway is a
 * `heist serve` child process. Each figure is the median of 3 interleaved runs of 5 s, and each
 * ratio the median of its 3 per-repetition ratios (both configurations measured in the same
 * repetition, a few seconds apart, so slow drift of the shared machine cancels); then one 60 s
 * audited run per batch checks 0 errors and audit rows = delivered rows, and a --cpu-prof run of
 * the audited gateway says where its time goes.
 * Run alone: node --import tsx bench/gateway.ts (HEIST_BENCH_QUICK=1: short runs, to check it works;
 * HEIST_BENCH_LONG256=0: skip the long run at batch 256)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadOnnxModel } from '../src/backends/onnx-model.js';
import { inputSize } from '../src/core/prediction.js';
import { createRng } from '../src/core/rng.js';
import { servedModelName } from '../src/runs/serve-run.js';
import { modelsDir, repoRoot } from '../src/datasets/paths.js';
import { openAuditStore } from '../src/store/index.js';
import { type ProfileSummary, type Window, monotonicUs, summarizeProfiles } from './cpu-profile.js';
import { exportTorchWeights } from './export-torch-weights.js';
import {
  type GatewayChild,
  type LoadResult,
  duration,
  makeKeyFile,
  median,
  quick,
  round,
  runLoad,
  startGatewayChild,
  startLoad,
  writeGatewaySection,
} from './gateway-child.js';

const IN_FLIGHT = 8;
const BATCHES = [1, 256] as const;
const REPS = 3;
const PYTHON = '/usr/bin/python3';
const CONFIGS = [
  'bare_onnxruntime',
  'undefended_gateway',
  'audited_gateway_json',
  'audited_gateway_binary',
  'defended_gateway_json',
  'fastapi_pytorch',
] as const;

/** The full defense stack of the defended configuration: a detector, prediction poisoning and the watermark. */
const FULL_STACK = [
  'prada={"delta":0.94}',
  'mad-argmax={"epsilon":1.8}',
  'watermark={"rate":0.1,"mode":"runner-up","strength":0.5}',
];
type Config = (typeof CONFIGS)[number];

export interface Figure {
  readonly rowsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Every run's rows/s, in run order. */
  readonly runs: readonly number[];
}

function rows(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => Math.round(rng.next() * 1000) / 1000));
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** Bare inference in this process: IN_FLIGHT concurrent predict() loops for `seconds`. */
async function bareRun(
  predict: (x: { data: Float32Array; shape: number[] }) => unknown,
  x: { data: Float32Array; shape: number[] },
  batch: number,
  seconds: number,
): Promise<LoadResult> {
  for (let i = 0; i < 20; i++) await predict(x);
  const lat: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < deadline) {
        const s = performance.now();
        await predict(x);
        lat.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    rowsPerSecond: (lat.length * batch) / elapsed,
    requests: lat.length,
    deliveredRows: lat.length * batch,
    errors: 0,
    statusCounts: {},
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    seconds: elapsed,
    unanswered: 0,
    reconnects: 0,
    stopped: {},
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface TorchPeer {
  readonly url: string;
  readonly versions: string;
  readonly maxAbsDiff: number;
  stop(): void;
}

/** Starts bench/torch_server.py and checks its answers against onnxruntime's; a string says why it is skipped. */
async function startTorchPeer(
  modelPath: string,
  dir: string,
  reference: (rows: number[][]) => Promise<Float32Array>,
  d: number,
): Promise<TorchPeer | string> {
  let versions: string;
  try {
    versions = execFileSync(
      PYTHON,
      [
        '-c',
        'import torch, fastapi, uvicorn; print(f"torch {torch.__version__}, fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}")',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    ).trim();
  } catch {
    return `${PYTHON} lacks torch, fastapi or uvicorn: the FastAPI + PyTorch peer is skipped`;
  }
  const spec = exportTorchWeights(modelPath, join(dir, 'torch-spec.json'));
  const port = await freePort();
  const proc = spawn(
    PYTHON,
    [join(repoRoot, 'bench/torch_server.py'), '--weights', join(dir, 'torch-spec.json'), '--port', String(port)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err = (err + s).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = (): void => {
    proc.kill('SIGTERM');
  };
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) return `torch_server.py exited (${proc.exitCode}): ${err}`;
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 600) {
      stop();
      return 'torch_server.py did not start within 60 s';
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Same answers as onnxruntime on a few rows before any timing.
  const probe = rows(8, d, 99);
  const res = await fetch(`${url}/v1/models/${spec.name}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: probe }),
  });
  const got = (await res.json()) as { predictions: { probabilities: number[] }[] };
  const want = await reference(probe);
  let maxAbsDiff = 0;
  for (const [i, p] of got.predictions.entries())
    for (const [j, v] of p.probabilities.entries())
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - want[i * p.probabilities.length + j]));
  if (!(maxAbsDiff < 1e-4)) {
    stop();
    return `torch_server.py answers differ from onnxruntime's (max abs diff ${maxAbsDiff}): peer skipped`;
  }
  return { url: `${url}/v1/models/${spec.name}/predict`, versions, maxAbsDiff, stop };
}

/** A fresh audited gateway under `seconds` of load, then its audit log counted from a freshly opened store. */
async function longRun(
  name: string,
  modelPath: string,
  dir: string,
  d: number,
  batch: number,
  binary: boolean,
  seconds: number,
): Promise<Record<string, unknown>> {
  const sub = mkdtempSync(join(dir, `long${batch}-`));
  const { file, key } = makeKeyFile(sub);
  const auditUrl = `sqlite://${join(sub, 'audit.db')}`;
  const gw = await startGatewayChild(['--model', modelPath, '--keys', file, '--audit', auditUrl]);
  let load: LoadResult;
  let exit: string;
  try {
    load = await runLoad({
      url: `${gw.url}/v1/models/${name}/predict`,
      size: d,
      batch,
      inFlight: IN_FLIGHT,
      seconds,
      key,
      binary,
      warmup: 0,
    });
  } finally {
    exit = await gw.stop();
  }
  const store = await openAuditStore(auditUrl, { createIfMissing: false });
  try {
    const auditRequests = await store.count();
    const auditRows = await store.countRows();
    const verify = await store.verify();
    return {
      batch,
      body: binary ? 'binary' : 'json',
      seconds: load.seconds,
      rowsPerSecond: Math.round(load.rowsPerSecond),
      p50Ms: round(load.p50Ms),
      p99Ms: round(load.p99Ms),
      errors: load.errors,
      statusCounts: load.statusCounts,
      deliveredRequests: load.statusCounts['200'] ?? 0,
      deliveredRows: load.deliveredRows,
      auditRequests,
      auditRows,
      rowsMatch: auditRows === load.deliveredRows,
      ok: load.errors === 0 && auditRows === load.deliveredRows && auditRequests === load.requests,
      verifyOk: verify.ok,
      gatewayExit: exit,
    };
  } finally {
    await store.close();
    rmSync(sub, { recursive: true, force: true });
  }
}

/** One --cpu-prof run of a fresh audited gateway; the per-thread top self-time functions. */
async function profileRun(
  name: string,
  modelPath: string,
  dir: string,
  d: number,
  batch: number,
  binary: boolean,
  seconds: number,
): Promise<{ batch: number; body: string; rowsPerSecond: number; threads: ProfileSummary[] }> {
  const sub = mkdtempSync(join(dir, `prof${batch}-`));
  const { file, key } = makeKeyFile(sub);
  const gw = await startGatewayChild(
    ['--model', modelPath, '--keys', file, '--audit', `sqlite://${join(sub, 'audit.db')}`],
    ['--cpu-prof', '--cpu-prof-dir', join(sub, 'prof')],
  );
  let load: LoadResult;
  let window: Window;
  try {
    const running = startLoad({ url: `${gw.url}/v1/models/${name}/predict`, size: d, batch, seconds, key, binary });
    await running.connected;
    const fromUs = monotonicUs();
    load = await running.done;
    window = { fromUs, toUs: monotonicUs() };
  } finally {
    await gw.stop();
  }
  // Only the samples taken under load: start-up (tsx compiling modules) would dominate a short run.
  const threads = summarizeProfiles(join(sub, 'prof'), 10, window).map((t) => ({
    ...t,
    file: t.file.split('/').pop()!,
  }));
  rmSync(sub, { recursive: true, force: true });
  return { batch, body: binary ? 'binary' : 'json', rowsPerSecond: Math.round(load.rowsPerSecond), threads };
}

export async function benchGateway(modelPath = join(modelsDir, 'mnist-cnn.onnx')): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'heist-bench-gateway-'));
  const model = await loadOnnxModel(modelPath);
  const d = inputSize(model.info);
  // The served name, as serve-run.ts picks it: the ONNX metadata name, else the file name.
  const name = servedModelName(model.info, modelPath);
  const seconds = duration(5, 1.5);
  const children: GatewayChild[] = [];
  let torch: TorchPeer | string = 'not started';
  const notes: string[] = [
    // A fact of the dependency that reading the profiles needs.
    "onnxruntime-node's session.run is synchronous on the calling thread (dist/backend.js: setImmediate, then the native run): inference blocks the gateway's event loop for its whole duration",
  ];
  try {
    const { file, key } = makeKeyFile(dir);
    const undefended = await startGatewayChild(['--model', modelPath, '--anonymous']);
    children.push(undefended);
    const audited = await startGatewayChild([
      '--model',
      modelPath,
      '--keys',
      file,
      '--audit',
      `sqlite://${join(dir, 'audit.db')}`,
    ]);
    children.push(audited);
    // The secret the keyed stages need reaches the child through its inherited environment.
    process.env.HEIST_BENCH_SECRET ??= 'gateway-bench-deployment-secret-0123';
    const defended = await startGatewayChild([
      '--model',
      modelPath,
      '--keys',
      file,
      '--audit',
      `sqlite://${join(dir, 'audit-defended.db')}`,
      '--secret-env',
      'HEIST_BENCH_SECRET',
      ...FULL_STACK.flatMap((d) => ['--defense', d]),
    ]);
    children.push(defended);
    const predictPath = `/v1/models/${name}/predict`;
    torch = await startTorchPeer(
      modelPath,
      dir,
      async (r) =>
        (await model.predict({ data: new Float32Array(r.flat()), shape: [r.length, ...model.info.inputShape] })).scores!
          .data,
      d,
    );
    if (typeof torch === 'string') notes.push(torch);

    const runsOf = new Map<string, LoadResult[]>();
    const order = CONFIGS.filter((c) => c !== 'fastapi_pytorch' || typeof torch !== 'string');
    for (let rep = 0; rep < REPS; rep++) {
      for (const batch of BATCHES) {
        const data = new Float32Array(rows(batch, d, batch).flat());
        const x = { data, shape: [batch, ...model.info.inputShape] };
        // Interleaved, starting one further each repetition, so drift on a shared machine hits every configuration.
        for (let k = 0; k < order.length; k++) {
          const config: Config = order[(k + rep) % order.length];
          const common = { size: d, batch, inFlight: IN_FLIGHT, seconds };
          let r: LoadResult;
          if (config === 'bare_onnxruntime') r = await bareRun((t) => model.predict(t), x, batch, seconds);
          else if (config === 'undefended_gateway') r = await runLoad({ ...common, url: undefended.url + predictPath });
          else if (config === 'audited_gateway_json')
            r = await runLoad({ ...common, url: audited.url + predictPath, key });
          else if (config === 'audited_gateway_binary')
            r = await runLoad({ ...common, url: audited.url + predictPath, key, binary: true });
          else if (config === 'defended_gateway_json')
            r = await runLoad({ ...common, url: defended.url + predictPath, key });
          else r = await runLoad({ ...common, url: (torch as TorchPeer).url });
          const id = `${config}@${batch}`;
          runsOf.set(id, [...(runsOf.get(id) ?? []), r]);
          process.stderr.write(
            `  ${id} run ${rep + 1}: ${Math.round(r.rowsPerSecond)} rows/s, p50 ${round(r.p50Ms, 2)} ms, errors ${r.errors}\n`,
          );
        }
      }
    }
    const figures: Record<string, Record<string, Figure>> = {};
    for (const config of order) {
      figures[config] = {};
      for (const batch of BATCHES) {
        const rs = runsOf.get(`${config}@${batch}`)!;
        figures[config][`batch${batch}`] = {
          rowsPerSecond: Math.round(median(rs.map((r) => r.rowsPerSecond))),
          p50Ms: round(median(rs.map((r) => r.p50Ms))),
          p99Ms: round(median(rs.map((r) => r.p99Ms))),
          errors: rs.reduce((s, r) => s + r.errors, 0),
          runs: rs.map((r) => Math.round(r.rowsPerSecond)),
        };
      }
    }
    /** a over b at this batch: the median of the repetitions' own ratios (a and b measured in the same one). */
    const ratio = (a: Config, b: Config, batch: number, goal: number) => {
      const ra = runsOf.get(`${a}@${batch}`);
      const rb = runsOf.get(`${b}@${batch}`);
      if (!ra || !rb) return { value: null, goal, met: null, runs: [] };
      const each = ra.map((r, i) => r.rowsPerSecond / rb[i].rowsPerSecond);
      const value = median(each);
      return { value: round(value), goal, met: value >= goal, runs: each.map((x) => round(x)) };
    };
    const ratios = {
      batch1_audited_over_undefended: ratio('audited_gateway_json', 'undefended_gateway', 1, 0.8),
      batch256_audited_over_undefended: ratio('audited_gateway_json', 'undefended_gateway', 256, 0.8),
      batch256_audited_binary_over_bare_onnxruntime: ratio('audited_gateway_binary', 'bare_onnxruntime', 256, 0.8),
      batch1_audited_over_fastapi_pytorch: ratio('audited_gateway_json', 'fastapi_pytorch', 1, 2),
      // Not goals, for reading the others.
      batch256_audited_binary_over_json: ratio('audited_gateway_binary', 'audited_gateway_json', 256, 0),
      batch1_defended_over_audited: ratio('defended_gateway_json', 'audited_gateway_json', 1, 0),
      batch256_defended_over_audited: ratio('defended_gateway_json', 'audited_gateway_json', 256, 0),
      batch256_undefended_over_bare_onnxruntime: ratio('undefended_gateway', 'bare_onnxruntime', 256, 0),
    };
    for (const c of children.splice(0)) await c.stop();
    if (typeof torch !== 'string') torch.stop();

    const longSeconds = duration(60, 5);
    const long = [await longRun(name, modelPath, dir, d, 1, false, longSeconds)];
    if (process.env.HEIST_BENCH_LONG256 !== '0')
      long.push(await longRun(name, modelPath, dir, d, 256, true, longSeconds));
    const profile = [
      await profileRun(name, modelPath, dir, d, 1, false, duration(5, 2)),
      await profileRun(name, modelPath, dir, d, 256, true, duration(5, 2)),
    ];
    return {
      model: name,
      inputSize: d,
      inFlight: IN_FLIGHT,
      repetitions: REPS,
      secondsPerRun: seconds,
      quick,
      setup: {
        bare_onnxruntime:
          'onnxruntime-node in the bench process, the gateway loader (ORT default intra-op threads, no spinning)',
        undefended_gateway: 'heist serve --anonymous (no keys, no audit), child process',
        audited_gateway:
          'heist serve --keys (one key, tier without limits) --audit sqlite://<tmp>/audit.db, child process',
        defended_gateway_json: `the audited gateway plus the full defense stack, in order: ${FULL_STACK.join(', ')} (one bench key, so PRADA sees one client)`,
        fastapi_pytorch:
          typeof torch === 'string'
            ? torch
            : `bench/torch_server.py: ${torch.versions}; one uvicorn worker (h11, asyncio: no uvloop or httptools installed), torch.set_num_threads(1) (ATen; Debian's OpenBLAS, which it does not reach, still multiplies on both cores), json.loads body; answers match onnxruntime within ${torch.maxAbsDiff.toExponential(2)}`,
        load: `bench/http-load.ts in its own process, ${IN_FLIGHT} keep-alive connections, one request in flight each`,
      },
      figures,
      ratios,
      long,
      profile,
      notes,
    };
  } finally {
    for (const c of children) await c.stop();
    if (typeof torch !== 'string') torch.stop();
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as a text table (rows/s, p50, p99 per configuration and batch) and the ratios. */
export function gatewayTable(r: Record<string, unknown>): string {
  const figures = r.figures as Record<string, Record<string, Figure>>;
  const lines = [
    `${'configuration'.padEnd(26)}${BATCHES.map((b) => `batch ${b}: rows/s   p50 ms   p99 ms`.padStart(38)).join('')}`,
  ];
  for (const [config, byBatch] of Object.entries(figures))
    lines.push(
      config.padEnd(26) +
        BATCHES.map((b) => {
          const f = byBatch[`batch${b}`];
          return `${String(f.rowsPerSecond).padStart(18)}${f.p50Ms.toFixed(2).padStart(9)}${f.p99Ms.toFixed(2).padStart(9)}`.padStart(
            38,
          );
        }).join(''),
    );
  for (const [k, v] of Object.entries(
    r.ratios as Record<string, { value: number | null; goal: number; met: boolean | null; runs?: number[] }>,
  ))
    lines.push(
      `${k}: ${v.value}${v.runs?.length ? ` (repetitions ${v.runs.join(', ')})` : ''}${v.goal > 0 ? ` (goal >= ${v.goal}: ${v.met === null ? 'n/a' : v.met ? 'met' : 'MISSED'})` : ''}`,
    );
  for (const l of r.long as Record<string, unknown>[])
    lines.push(
      `${l.seconds} s audited run, batch ${l.batch} (${l.body}): ${l.rowsPerSecond} rows/s, errors ${l.errors}, delivered rows ${l.deliveredRows}, audit rows ${l.auditRows}, verify ${l.verifyOk ? 'ok' : 'FAILED'}`,
    );
  for (const p of r.profile as { batch: number; body: string; threads: ProfileSummary[] }[]) {
    for (const t of p.threads.filter((x) => x.thread !== 'worker (tsx loader)'))
      lines.push(
        `profile batch ${p.batch} (${p.body}), ${t.thread} (${t.idlePercent}% idle): ${t.top
          .slice(0, 6)
          .map((f) => `${f.fn} ${f.percent}%`)
          .join(', ')}`,
      );
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchGateway(process.argv[2]);
  process.stdout.write(`${gatewayTable(r)}\n`);
  process.stdout.write(`wrote ${writeGatewaySection('throughput', r)}\n`);
}
