/**
 * @file Hostile input against `heist serve --keys K --audit sqlite://...` (a child process, default
 * hardening settings): >= 10,000 fuzzed requests and 1,000 slow or held connections from
 * bench/hostile-client.ts (its own process), while this process samples GET /healthz every 50 ms
 * (a fresh connection each time, as a load balancer would) and the gateway's VmRSS. Measures: 5xx
 * answers (must be 0), peak RSS, /healthz p99 (goal < 50 ms), and that every refusal that reached
 * HTTP has an audit record: each non-2xx answer carrying an x-request-id must be in the log with the
 * same status, and per status the fastify answers without an id must match the log's count.
 * Run alone: node --import tsx bench/gateway-hostile.ts (HEIST_BENCH_QUICK=1: 2,000 requests, 200 held)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadOnnxModel } from '../src/backends/onnx-model.js';
import { inputSize } from '../src/core/prediction.js';
import { servedModelName } from '../src/runs/serve-run.js';
import { modelsDir, repoRoot } from '../src/datasets/paths.js';
import { openAuditStore } from '../src/store/index.js';
import type { AuditFilter } from '../src/store/types.js';
import { monotonicUs } from './cpu-profile.js';
import { makeKeyFile, procStatusKiB, quick, round, startGatewayChild, writeGatewaySection } from './gateway-child.js';
import type { HostileAnswer, HostileClientOptions } from './hostile-client.js';

/** Paths whose requests are not audited by design (src/gateway/request-state.ts). */
const UNAUDITED = new Set(['/healthz', '/metrics', '/openapi.json']);

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** One GET /healthz on a fresh connection: ms, or undefined on failure / 2 s timeout. */
function healthz(url: URL): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.get(
      { host: url.hostname, port: url.port, path: '/healthz', agent: false, timeout: 2000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

function runClient(o: HostileClientOptions): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'bench/hostile-client.ts'), JSON.stringify(o)],
      { cwd: repoRoot, maxBuffer: 1 << 26 },
      (e, stdout, stderr) =>
        e
          ? reject(new Error(`hostile-client failed: ${e.message} ${stderr.slice(-2000)}`))
          : resolve(JSON.parse(stdout)),
    ),
  );
}

/** requestId -> status, and counts by status, over every record of the log. */
async function auditIndex(
  url: string,
): Promise<{ byId: Map<string, number>; byStatus: Record<string, number>; verifyOk: boolean; records: number }> {
  const store = await openAuditStore(url, { createIfMissing: false });
  const byId = new Map<string, number>();
  const byStatus: Record<string, number> = {};
  try {
    let after: AuditFilter['after'];
    for (;;) {
      const page = await store.query({ limit: 2000, ...(after ? { after } : {}) });
      for (const r of page) {
        byId.set(r.requestId, r.status);
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      }
      if (page.length < 2000) break;
      after = { log: page[page.length - 1].log, seq: page[page.length - 1].seq };
    }
    const verify = await store.verify();
    return { byId, byStatus, verifyOk: verify.ok, records: await store.count() };
  } finally {
    await store.close();
  }
}

export async function benchGatewayHostile(
  modelPath = join(modelsDir, 'mnist-cnn.onnx'),
): Promise<Record<string, unknown>> {
  const model = await loadOnnxModel(modelPath);
  const size = inputSize(model.info);
  const name = servedModelName(model.info, modelPath);
  await model.close();
  const dir = mkdtempSync(join(tmpdir(), 'heist-bench-hostile-'));
  try {
    const { file, key } = makeKeyFile(dir);
    const auditUrl = `sqlite://${join(dir, 'audit.db')}`;
    const gw = await startGatewayChild(['--model', modelPath, '--keys', file, '--audit', auditUrl]);
    const baselineRssKiB = procStatusKiB(gw.pid, 'VmRSS') ?? 0;
    const rss: number[] = [];
    const health: { atUs: number; ms: number }[] = [];
    let healthFailures = 0;
    let sampling = true;
    // Healthz every 50 ms (a new probe does not wait for a slow one), RSS on the same tick.
    const probes: Promise<void>[] = [];
    const ticker = setInterval(() => {
      if (!sampling) return;
      const kib = procStatusKiB(gw.pid, 'VmRSS');
      if (kib !== undefined) rss.push(kib);
      const atUs = monotonicUs();
      probes.push(
        healthz(new URL(gw.url)).then((ms) => {
          if (ms === undefined) healthFailures++;
          else health.push({ atUs, ms });
        }),
      );
    }, 50);
    const options: HostileClientOptions = {
      url: gw.url,
      key,
      model: name,
      size,
      requests: quick ? 2000 : 12_000,
      slow: quick ? 200 : 1000,
      concurrency: 8,
      spreadMs: quick ? 5000 : 25_000,
      // Past the gateway's defaults (headers 10 s, whole request 30 s) so the server ends them.
      holdCapMs: quick ? 12_000 : 40_000,
      answersFile: join(dir, 'answers.jsonl'),
      seed: 424242,
      // HEIST_HOSTILE_KINDS=valid,deep_nesting: only those fuzz kinds (to find what slows /healthz).
      ...(process.env.HEIST_HOSTILE_KINDS ? { kinds: process.env.HEIST_HOSTILE_KINDS.split(',') } : {}),
    };
    let client: Record<string, unknown>;
    try {
      client = await runClient(options);
    } finally {
      sampling = false;
      clearInterval(ticker);
      await Promise.all(probes);
    }
    const peakHwmKiB = procStatusKiB(gw.pid, 'VmHWM');
    const gatewayExit = await gw.stop();
    const logs = gw.logs();
    const answers = readFileSync(options.answersFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as HostileAnswer);
    const audit = await auditIndex(auditUrl);

    // 5xx answers, by kind, variant and status.
    const fiveXX = answers.filter((a) => a.status !== undefined && a.status >= 500);
    const fiveXXBy: Record<string, number> = {};
    for (const a of fiveXX)
      fiveXXBy[`${a.kind}/${a.variant}: ${a.status}`] = (fiveXXBy[`${a.kind}/${a.variant}: ${a.status}`] ?? 0) + 1;

    // Requests without a valid key that got a 2xx from an API route: an authentication bypass.
    const bypass = answers.filter(
      (a) =>
        a.keyless &&
        a.status !== undefined &&
        a.status >= 200 &&
        a.status < 300 &&
        !UNAUDITED.has(a.path.split('?', 1)[0]),
    );
    const bypassBy: Record<string, number> = {};
    for (const a of bypass) bypassBy[`${a.variant}: ${a.status}`] = (bypassBy[`${a.variant}: ${a.status}`] ?? 0) + 1;

    // What was in flight while /healthz was slowest: fuzz variants overlapping the slowest 1% of probes.
    const slowest = [...health].sort((x, y) => y.ms - x.ms).slice(0, Math.max(1, Math.ceil(health.length / 100)));
    const overlap: Record<string, number> = {};
    for (const h of slowest)
      for (const a of answers) {
        if (a.ms > 2000) continue; // held or timed out: in flight everywhere, says nothing
        const aEnd = a.startUs + a.ms * 1000;
        if (a.startUs < h.atUs + h.ms * 1000 && aEnd > h.atUs)
          overlap[`${a.kind}/${a.variant}`] = (overlap[`${a.kind}/${a.variant}`] ?? 0) + 1;
      }
    const inFlightDuringSlowest = Object.fromEntries(
      Object.entries(overlap)
        .filter(
          ([k]) =>
            !k.startsWith('held_headers') &&
            !k.startsWith('slowloris') &&
            !k.startsWith('trickled_body') &&
            !k.startsWith('unfinished_body') &&
            !k.startsWith('idle_keepalive') &&
            !k.startsWith('silent'),
        )
        .sort((x, y) => y[1] - x[1])
        .slice(0, 10),
    );

    // Audit coverage of refusals.
    const audited = (a: HostileAnswer): boolean => !UNAUDITED.has(a.path.split('?', 1)[0]);
    const refusalsWithId = answers.filter(
      (a) => a.status !== undefined && (a.status < 200 || a.status >= 300) && a.requestId !== undefined && audited(a),
    );
    const missing = refusalsWithId.filter((a) => !audit.byId.has(a.requestId!));
    const statusMismatch = refusalsWithId.filter(
      (a) => audit.byId.has(a.requestId!) && audit.byId.get(a.requestId!) !== a.status,
    );
    const fastifyAnswers: Record<string, number> = {};
    const withoutId: Record<string, number> = {};
    const rawAnswers: Record<string, number> = {};
    for (const a of answers) {
      if (a.status === undefined || !audited(a)) continue;
      if (a.raw) {
        rawAnswers[`${a.status} ${a.variant}`] = (rawAnswers[`${a.status} ${a.variant}`] ?? 0) + 1;
        continue;
      }
      fastifyAnswers[a.status] = (fastifyAnswers[a.status] ?? 0) + 1;
      if (a.requestId === undefined)
        withoutId[`${a.status} ${a.kind}/${a.variant}`] = (withoutId[`${a.status} ${a.kind}/${a.variant}`] ?? 0) + 1;
    }
    const perStatus: Record<string, { answered: number; audited: number }> = {};
    for (const s of new Set([...Object.keys(fastifyAnswers), ...Object.keys(audit.byStatus)]))
      perStatus[s] = { answered: fastifyAnswers[s] ?? 0, audited: audit.byStatus[s] ?? 0 };
    const auditNon200 = Object.entries(audit.byStatus).reduce((n, [s, c]) => n + (s === '200' ? 0 : c), 0);

    const healthMs = health.map((h) => h.ms).sort((a, b) => a - b);
    const healthP99 = quantile(healthMs, 0.99);
    return {
      quick,
      settings: {
        fuzzRequests: options.requests,
        slowConnections: options.slow,
        concurrency: options.concurrency,
        slowSpreadMs: options.spreadMs,
        holdCapMs: options.holdCapMs,
        gateway: 'heist serve --keys --audit sqlite (default timeouts: headers 10 s, request 30 s, keep-alive 5 s)',
      },
      client,
      fiveXX: { count: fiveXX.length, ok: fiveXX.length === 0, by: fiveXXBy, samples: fiveXX.slice(0, 5) },
      rss: {
        baselineMiB: round(baselineRssKiB / 1024, 1),
        peakSampledMiB: round(Math.max(0, ...rss) / 1024, 1),
        peakHwmMiB: peakHwmKiB !== undefined ? round(peakHwmKiB / 1024, 1) : null,
        samples: rss.length,
      },
      healthz: {
        samples: health.length,
        failures: healthFailures,
        p50Ms: round(quantile(healthMs, 0.5)),
        p99Ms: round(healthP99),
        maxMs: round(healthMs[healthMs.length - 1] ?? Number.NaN),
        goalP99Ms: 50,
        met: healthP99 < 50 && healthFailures === 0,
        slowestMs: slowest.map((h) => round(h.ms, 1)),
        inFlightDuringSlowest,
      },
      unauthenticatedServed: { count: bypass.length, ok: bypass.length === 0, by: bypassBy },
      audit: {
        records: audit.records,
        non200Records: auditNon200,
        byStatus: audit.byStatus,
        verifyOk: audit.verifyOk,
        refusalsWithRequestId: refusalsWithId.length,
        refusalsWithRequestIdMissingFromLog: missing.length,
        missingSamples: missing.slice(0, 5),
        statusMismatch: statusMismatch.length,
        // Answers from fastify (Date header) by status vs records by status: equal when every refusal is recorded.
        perStatus,
        perStatusOk: Object.entries(perStatus).every(([s, v]) => s === '200' || v.answered <= v.audited),
        fastifyAnswersWithoutRequestId: withoutId,
        answersBelowFastify: rawAnswers,
      },
      gatewayExit,
      gatewayLogTail: logs.slice(-2000),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function hostileTable(r: Record<string, unknown>): string {
  const f = r.fiveXX as { count: number; by: Record<string, number> };
  const h = r.healthz as { p50Ms: number; p99Ms: number; maxMs: number; failures: number; met: boolean };
  const m = r.rss as { baselineMiB: number; peakSampledMiB: number; peakHwmMiB: number | null };
  const a = r.audit as {
    records: number;
    non200Records: number;
    refusalsWithRequestId: number;
    refusalsWithRequestIdMissingFromLog: number;
    perStatus: Record<string, { answered: number; audited: number }>;
    verifyOk: boolean;
  };
  const c = r.client as { requests: number; slow: number; fuzzSeconds: number };
  const u = r.unauthenticatedServed as { count: number; by: Record<string, number> };
  return [
    `hostile: ${c.requests} fuzzed requests in ${c.fuzzSeconds} s, ${c.slow} slow or held connections`,
    `5xx answers: ${f.count}${
      f.count > 0
        ? ` (${Object.entries(f.by)
            .map(([k, v]) => `${k} x${v}`)
            .join(', ')})`
        : ''
    }`,
    `2xx without a valid key on API routes: ${u.count}${
      u.count > 0
        ? ` (${Object.entries(u.by)
            .map(([k, v]) => `${k} x${v}`)
            .join(', ')})`
        : ''
    }`,
    `gateway RSS: ${m.baselineMiB} MiB at start, peak ${m.peakSampledMiB} MiB sampled (VmHWM ${m.peakHwmMiB} MiB)`,
    `/healthz: p50 ${h.p50Ms} ms, p99 ${h.p99Ms} ms, max ${h.maxMs} ms, failures ${h.failures} (goal p99 < 50 ms: ${h.met ? 'met' : 'MISSED'})`,
    `audit: ${a.records} records (${a.non200Records} non-200), verify ${a.verifyOk ? 'ok' : 'FAILED'}; refusals with a request id: ${a.refusalsWithRequestId}, missing from the log: ${a.refusalsWithRequestIdMissingFromLog}`,
    `answered / audited by status: ${Object.entries(a.perStatus)
      .map(([s, v]) => `${s} ${v.answered}/${v.audited}`)
      .join(', ')}`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchGatewayHostile(process.argv[2]);
  process.stdout.write(`${hostileTable(r)}\n`);
  process.stdout.write(`wrote ${writeGatewaySection('hostile', r)}\n`);
}
