/**
 * @file Durability under SIGKILL: 5 trials of `heist serve --keys K --audit sqlite://...` as a
 * child process under load (batch 1 on most connections, batch 16 on some), killed with SIGKILL
 * after a seeded random 2-6 s. Then every request id the load generator got a 200 for must have an
 * audit record with status 200 in a freshly opened store, and `heist audit verify` must exit 0.
 * Records without a delivered answer are fine (durable, then killed before the reply left).
 * Run alone: node --import tsx bench/gateway-kill.ts (HEIST_BENCH_QUICK=1: shorter trials)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadOnnxModel } from '../src/backends/onnx-model.js';
import { inputSize } from '../src/core/prediction.js';
import { createRng } from '../src/core/rng.js';
import { servedModelName } from '../src/runs/serve-run.js';
import { modelsDir } from '../src/datasets/paths.js';
import { openAuditStore } from '../src/store/index.js';
import type { AuditFilter } from '../src/store/types.js';
import { makeKeyFile, quick, runHeist, startGatewayChild, startLoad, writeGatewaySection } from './gateway-child.js';

const TRIALS = 5;
const SEED = 20261201;
/** 6 lanes of batch 1, 2 of batch 16. */
const LANE_BATCHES = [1, 1, 1, 16];

export interface KillTrial {
  readonly trial: number;
  readonly killAfterMs: number;
  /** Requests answered 200 (their ids were received). */
  readonly delivered: number;
  readonly deliveredRows: number;
  /** Requests written whose connection died before an answer (not delivered: no claim on the log). */
  readonly unanswered: number;
  readonly auditRecords: number;
  readonly auditRows: number;
  /** Delivered ids without a status-200 record: must be 0. */
  readonly missing: number;
  readonly missingIds: readonly string[];
  /** Records with status 200 whose answer the client never got (durable before the kill, reply lost). */
  readonly recordedNotDelivered: number;
  /** `heist audit verify --audit URL` exit code 0. */
  readonly verifyOk: boolean;
  readonly verifyOutput: string;
  readonly gatewayExit: string;
}

/** requestId -> status of every record, paged (records carry their rows). */
async function recordStatuses(url: string): Promise<Map<string, number>> {
  const store = await openAuditStore(url, { createIfMissing: false });
  const out = new Map<string, number>();
  try {
    let after: AuditFilter['after'];
    for (;;) {
      const page = await store.query({ limit: 2000, ...(after ? { after } : {}) });
      for (const r of page) out.set(r.requestId, r.status);
      if (page.length < 2000) break;
      const last = page[page.length - 1];
      after = { log: last.log, seq: last.seq };
    }
    return out;
  } finally {
    await store.close();
  }
}

async function trial(
  i: number,
  killAfterMs: number,
  modelPath: string,
  name: string,
  size: number,
): Promise<KillTrial> {
  const dir = mkdtempSync(join(tmpdir(), `heist-bench-kill-${i}-`));
  try {
    const { file, key } = makeKeyFile(dir);
    const auditUrl = `sqlite://${join(dir, 'audit.db')}`;
    const gw = await startGatewayChild(['--model', modelPath, '--keys', file, '--audit', auditUrl]);
    const idsFile = join(dir, 'delivered.txt');
    const load = startLoad({
      url: `${gw.url}/v1/models/${name}/predict`,
      size,
      batch: LANE_BATCHES,
      inFlight: 8,
      // Longer than any kill: the run ends when the server is gone.
      seconds: 120,
      key,
      idsFile,
      warmup: 0,
      seed: i,
    });
    await load.connected;
    await new Promise((r) => setTimeout(r, killAfterMs));
    const gatewayExit = await gw.kill();
    const tally = await load.done;
    const delivered = readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
    const statuses = await recordStatuses(auditUrl);
    const missingIds = delivered.filter((id) => statuses.get(id) !== 200);
    const deliveredSet = new Set(delivered);
    let recordedNotDelivered = 0;
    for (const [id, status] of statuses) if (status === 200 && !deliveredSet.has(id)) recordedNotDelivered++;
    const store = await openAuditStore(auditUrl, { createIfMissing: false });
    const auditRows = await store.countRows();
    await store.close();
    const verify = await runHeist(['audit', 'verify', '--audit', auditUrl]);
    return {
      trial: i,
      killAfterMs,
      delivered: delivered.length,
      deliveredRows: tally.deliveredRows,
      unanswered: tally.unanswered,
      auditRecords: statuses.size,
      auditRows,
      missing: missingIds.length,
      missingIds: missingIds.slice(0, 20),
      recordedNotDelivered,
      verifyOk: verify.code === 0,
      verifyOutput: (verify.stdout + verify.stderr).trim().slice(0, 500),
      gatewayExit,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchGatewayKill(
  modelPath = join(modelsDir, 'mnist-cnn.onnx'),
): Promise<Record<string, unknown>> {
  const model = await loadOnnxModel(modelPath);
  const size = inputSize(model.info);
  const name = servedModelName(model.info, modelPath);
  await model.close();
  const rng = createRng(SEED);
  const [lo, hi] = quick ? [1000, 2500] : [2000, 6000];
  const trials: KillTrial[] = [];
  for (let i = 1; i <= TRIALS; i++) {
    const killAfterMs = Math.round(lo + rng.next() * (hi - lo));
    const t = await trial(i, killAfterMs, modelPath, name, size);
    process.stderr.write(
      `  trial ${i}: killed after ${killAfterMs} ms, delivered ${t.delivered}, audit records ${t.auditRecords}, missing ${t.missing}, verify ${t.verifyOk ? 'ok' : 'FAILED'}\n`,
    );
    trials.push(t);
  }
  return {
    seed: SEED,
    quick,
    killWindowMs: [lo, hi],
    laneBatches: LANE_BATCHES,
    trials,
    ok: trials.every((t) => t.missing === 0 && t.verifyOk),
    totalMissing: trials.reduce((s, t) => s + t.missing, 0),
  };
}

export function killTable(r: Record<string, unknown>): string {
  const lines = ['trial  kill ms  delivered  audit records  missing  verify'];
  for (const t of r.trials as KillTrial[])
    lines.push(
      `${String(t.trial).padStart(5)}${String(t.killAfterMs).padStart(9)}${String(t.delivered).padStart(11)}${String(t.auditRecords).padStart(15)}${String(t.missing).padStart(9)}  ${t.verifyOk ? 'ok' : 'FAILED'}`,
    );
  lines.push(`SIGKILL durability: ${r.ok ? 'ok' : 'FAILED'} (missing ${r.totalMissing})`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchGatewayKill(process.argv[2]);
  process.stdout.write(`${killTable(r)}\n`);
  process.stdout.write(`wrote ${writeGatewaySection('sigkill', r)}\n`);
}
