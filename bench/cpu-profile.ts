/**
 * @file Summarises V8 .cpuprofile files (node --cpu-prof) as the top self-time functions, so a bench
 * can say where a server's time goes without a profiler UI. One summary per thread's profile,
 * optionally over a time window only (the load, without start-up and module compilation).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../src/datasets/paths.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

export interface SelfTime {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** main (thread 0), or a worker named by the source it runs (e.g. src/store/sqlite-worker.ts). */
  readonly thread: string;
  readonly totalMs: number;
  /** Percent of samples in (idle): the thread was waiting (I/O, the other process, the disk). */
  readonly idlePercent: number;
  readonly top: readonly SelfTime[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  return path.startsWith('/') ? relative(repoRoot, path) : path;
}

/** Microseconds on the monotonic clock (process.hrtime, which V8's profile timestamps share). */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** A time window in monotonicUs(): only samples taken inside it count (e.g. the load, not start-up). */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

export function summarizeProfile(file: string, topN = 12, window?: Window): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const hitsById = new Map<number, number>();
  let t = p.startTime;
  let totalHits = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) return;
    first = Math.min(first, t);
    last = Math.max(last, t);
    totalHits++;
    hitsById.set(id, (hitsById.get(id) ?? 0) + 1);
  });
  const totalMs = totalHits > 1 ? (last - first) / 1000 : 0;
  const msPerHit = totalHits > 0 ? totalMs / totalHits : 0;
  const byFn = new Map<string, { fn: string; where: string; hits: number }>();
  for (const n of p.nodes) {
    const hits = hitsById.get(n.id) ?? 0;
    if (hits === 0) continue;
    const fn = n.callFrame.functionName || '(anonymous)';
    const where = n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '';
    const k = `${fn}@${where}`;
    const e = byFn.get(k) ?? { fn, where, hits: 0 };
    e.hits += hits;
    byFn.set(k, e);
  }
  const pct = (hits: number): number => (totalHits > 0 ? Math.round((1000 * hits) / totalHits) / 10 : 0);
  const idle = [...byFn.values()].find((e) => e.fn === '(idle)')?.hits ?? 0;
  const top = [...byFn.values()]
    .filter((e) => e.fn !== '(idle)')
    .sort((a, b) => b.hits - a.hits)
    .slice(0, topN)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.hits * msPerHit), percent: pct(e.hits) }));
  const tid = /\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1];
  const ours = p.nodes.find((n) => /\/(src|bench)\/.*worker/.test(n.callFrame.url))?.callFrame.url;
  const thread =
    tid === '0'
      ? 'main'
      : ours
        ? `worker ${shortUrl(ours)}`
        : p.nodes.some((n) => n.callFrame.url.includes('/tsx/'))
          ? 'worker (tsx loader)'
          : 'worker';
  return { file, thread, totalMs: Math.round(totalMs), idlePercent: pct(idle), top };
}

/** Every .cpuprofile in `dir` (one per thread: the main thread first, then workers). */
export function summarizeProfiles(dir: string, topN = 12, window?: Window): ProfileSummary[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summarizeProfile(join(dir, f), topN, window));
}
