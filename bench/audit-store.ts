/**
 * @file The SQLite audit store's cost alone, without HTTP: records built as the gateway builds them
 * (784-float input rows with their hashes, 10 scores raw and served), appended with 8 appends in
 * flight, at batch 1 and 256, for two kinds of input: arbitrary floats (stored raw) and the
 * MNIST images of the mnist-cnn evaluation split (pixels k/255: the one-byte form, PackBits). The figure is CPU time of all threads per row (process.cpuUsage),
 * which the noise of a shared machine moves far less than wall time; rows/s and the main thread's
 * share are printed beside it. Median of 3 runs of 3 s per batch size.
 * Run alone: node --import tsx bench/audit-store.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hashRow } from '../src/core/hash.js';
import { resolveEval } from '../src/runs/data-sources.js';
import { sqliteAuditStore } from '../src/store/sqlite.js';
import type { AuditRecord, AuditRow } from '../src/store/types.js';
import { median, quick } from './gateway-child.js';

const D = 784;
const K = 10;
const IN_FLIGHT = 8;
const REPS = 3;

export type InputKind = 'floats' | 'pixels';
const KINDS: readonly InputKind[] = ['floats', 'pixels'];

/** batch rows of the kind: arbitrary float32 values (3 decimals), or MNIST images cycled. */
function inputRows(kind: InputKind, batch: number): Float32Array {
  if (kind === 'floats') return new Float32Array(batch * D).map((_, i) => ((i * 7919) % 1000) / 1000);
  const images = resolveEval('mnist-cnn').x.data;
  const n = images.length / D;
  const out = new Float32Array(batch * D);
  for (let i = 0; i < batch; i++) out.set(images.subarray((i % n) * D, ((i % n) + 1) * D), i * D);
  return out;
}

async function once(
  batch: number,
  seconds: number,
  kind: InputKind,
): Promise<{ cpuUsPerRow: number; mainUsPerRow: number; rowsPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'heist-bench-audit-'));
  const store = await sqliteAuditStore(join(dir, 'audit.db'));
  const inputs = inputRows(kind, batch);
  const scores = new Float32Array(batch * K).map((_, i) => (i % 7) / 10);
  let n = 0;
  const record = (): AuditRecord => {
    const rows: AuditRow[] = [];
    for (let i = 0; i < batch; i++) {
      const input = inputs.subarray(i * D, (i + 1) * D);
      const s = scores.subarray(i * K, (i + 1) * K);
      rows.push({
        index: i,
        inputHash: hashRow(input),
        input,
        raw: { label: 1, scores: s },
        served: { label: 1, scores: s },
      });
    }
    return {
      at: Date.now(),
      requestId: `r${n++}`,
      clientId: 'key:bench',
      tier: 'bench',
      ip: '127.0.0.1',
      route: 'POST /v1/models/:name/predict',
      model: 'mnist-cnn',
      status: 200,
      outcome: 'served',
      latencyMs: 1.5,
      flags: [],
      rows,
    };
  };
  try {
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let rows = 0;
    const loop = async (): Promise<void> => {
      while (performance.now() - t0 < seconds * 1000) {
        await store.append([record()]);
        rows += batch;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    return {
      cpuUsPerRow: (cpu.user + cpu.system) / rows,
      mainUsPerRow: (elu.active * 1000) / rows,
      rowsPerSecond: rows / wall,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchAuditStore(): Promise<Record<string, unknown>> {
  const seconds = quick ? 1 : 3;
  const figures: Record<string, Record<string, unknown>> = {};
  for (const kind of KINDS)
    for (const batch of [1, 256]) {
      const runs = [];
      for (let r = 0; r < REPS; r++) runs.push(await once(batch, seconds, kind));
      figures[kind] ??= {};
      figures[kind][`batch${batch}`] = {
        cpuUsPerRow: Math.round(median(runs.map((x) => x.cpuUsPerRow)) * 10) / 10,
        mainUsPerRow: Math.round(median(runs.map((x) => x.mainUsPerRow)) * 10) / 10,
        rowsPerSecond: Math.round(median(runs.map((x) => x.rowsPerSecond))),
        runs: runs.map((x) => Math.round(x.cpuUsPerRow * 10) / 10),
      };
    }
  return { inFlight: IN_FLIGHT, inputSize: D, repetitions: REPS, secondsPerRun: seconds, figures };
}

export function auditStoreTable(r: Record<string, unknown>): string {
  type Figure = { cpuUsPerRow: number; mainUsPerRow: number; rowsPerSecond: number };
  const f = r.figures as Record<InputKind, Record<string, Figure>>;
  return Object.entries(f)
    .flatMap(([kind, byBatch]) =>
      Object.entries(byBatch).map(
        ([b, x]) =>
          `SQLite audit store, ${kind}, ${b}: ${x.cpuUsPerRow} µs of CPU per row (main thread ${x.mainUsPerRow}), ${x.rowsPerSecond} rows/s`,
      ),
    )
    .join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href)
  process.stdout.write(`${auditStoreTable(await benchAuditStore())}\n`);
