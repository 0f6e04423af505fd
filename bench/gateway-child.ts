/**
 * @file What the gateway benches share: a `heist serve` child process (bin/heist.js, its URL read
 * from its first stdout line), a key file with one unlimited key, the load generator
 * (bench/http-load.ts) as a child process, RSS readings from /proc, medians and quick mode
 * (HEIST_BENCH_QUICK=1 shortens every duration so a bench can be checked in a minute or two).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../src/datasets/paths.js';
import { createKey } from '../src/runs/keys-run.js';
import { machineInfo, writeBenchResult } from './results-file.js';

export const quick = process.env.HEIST_BENCH_QUICK === '1';

/** `full` seconds normally, `short` under HEIST_BENCH_QUICK=1. */
export const duration = (full: number, short: number): number => (quick ? short : full);

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** A key file holding one key of `tier` (the flags path serves every tier of the file without limits). */
export function makeKeyFile(dir: string, tier = 'bench'): { file: string; key: string } {
  const file = join(dir, 'keys.json');
  return { file, key: createKey({ file, tier, label: 'bench load' }).key };
}

export interface GatewayChild {
  readonly url: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** The last few KiB of the child's output (pino log lines go to stdout, crashes to stderr). */
  logs(): string;
  /** SIGTERM (drain, flush, exit) and wait; resolves with the exit code or signal. */
  stop(): Promise<string>;
  /** SIGKILL and wait. */
  kill(): Promise<string>;
}

/** Starts `node [nodeArgs] bin/heist.js serve ARGS --port 0` and resolves once it listens. */
export function startGatewayChild(args: readonly string[], nodeArgs: readonly string[] = []): Promise<GatewayChild> {
  const proc = spawn(process.execPath, [...nodeArgs, join(repoRoot, 'bin/heist.js'), 'serve', ...args, '--port', '0'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err = (err + s).slice(-8192);
  });
  const exited = new Promise<string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)),
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (s: string): void => {
      out += s;
      const m = /heist gateway on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      proc.stdout!.off('data', onData);
      proc.stdout!.on('data', (more: string) => {
        err = (err + more).slice(-8192);
      });
      resolve({
        url: m[1],
        pid: proc.pid!,
        proc,
        logs: () => err,
        stop: () => {
          proc.kill('SIGTERM');
          return exited;
        },
        kill: () => {
          proc.kill('SIGKILL');
          return exited;
        },
      });
    };
    proc.stdout!.setEncoding('utf8').on('data', onData);
    void exited.then((how) => reject(new Error(`heist serve ended before listening (${how}): ${err.slice(-2000)}`)));
  });
}

export interface LoadOptions {
  readonly url: string;
  readonly size: number;
  /** One batch size, or several (lane i uses batches[i % n]). */
  readonly batch: number | readonly number[];
  readonly inFlight?: number;
  readonly seconds?: number;
  readonly calls?: number;
  readonly key?: string;
  readonly binary?: boolean;
  /** Write the x-request-id of every 200 answer here. */
  readonly idsFile?: string;
  readonly warmup?: number;
  readonly seed?: number;
}

export interface LoadResult {
  readonly rowsPerSecond: number;
  readonly requests: number;
  readonly deliveredRows: number;
  readonly errors: number;
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly seconds: number;
  readonly unanswered: number;
  readonly reconnects: number;
  readonly stopped: Readonly<Record<string, number>>;
  readonly deliveredIds?: number;
}

function loadArgs(o: LoadOptions): string[] {
  return [
    '--import',
    'tsx',
    join(repoRoot, 'bench/http-load.ts'),
    '--url',
    o.url,
    '--size',
    String(o.size),
    '--batch',
    (Array.isArray(o.batch) ? o.batch : [o.batch]).join(','),
    '--in-flight',
    String(o.inFlight ?? 8),
    ...(o.seconds !== undefined ? ['--seconds', String(o.seconds)] : ['--calls', String(o.calls ?? 1000)]),
    ...(o.key ? ['--key', o.key] : []),
    ...(o.binary ? ['--binary'] : []),
    ...(o.idsFile ? ['--ids', o.idsFile] : []),
    '--warmup',
    String(o.warmup ?? 20),
    '--seed',
    String(o.seed ?? 1),
  ];
}

export interface RunningLoad {
  /** Resolves once every connection is open and the load is about to start. */
  readonly connected: Promise<void>;
  /** The tally, once the run is over (it comes even when the server dies under the load). */
  readonly done: Promise<LoadResult>;
}

/** Starts the load generator as a child process. */
export function startLoad(o: LoadOptions): RunningLoad {
  const proc = spawn(process.execPath, loadArgs(o), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  let onConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    onConnected = resolve;
  });
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err = (err + s).slice(-8192);
    if (err.includes('http-load: connected')) onConnected();
  });
  const done = new Promise<LoadResult>((resolve, reject) =>
    proc.once('exit', (code) => {
      onConnected();
      if (code === 0) resolve(JSON.parse(out) as LoadResult);
      else reject(new Error(`http-load exited with ${code}: ${err.slice(-2000)}`));
    }),
  );
  return { connected, done };
}

/** Runs the load generator to completion (it prints its tally even when the server dies under it). */
export function runLoad(o: LoadOptions): Promise<LoadResult> {
  return startLoad(o).done;
}

/** A /proc/<pid>/status field in KiB (VmRSS, VmHWM), or undefined once the process is gone. */
export function procStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `node bin/heist.js ARGS`; resolves with the exit code and output (never rejects on a non-zero exit). */
export function runHeist(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin/heist.js'), ...args],
      { cwd: repoRoot, maxBuffer: 1 << 26 },
      (e, stdout, stderr) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * Read-modify-write of bench/results/gateway.json: sets `section` (throughput, sigkill, hostile)
 * and keeps the others, so each gateway bench can run alone. Each section carries its own machine.
 */
export function writeGatewaySection(section: string, body: object): string {
  const path = join(repoRoot, 'bench/results/gateway.json');
  let previous: Record<string, unknown> = {};
  try {
    previous = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // no file yet, or an unreadable one: start afresh
  }
  // The old format (one "results" object) is superseded by the sections.
  const { machine: _m, results: _r, ...kept } = previous;
  return writeBenchResult('gateway', { ...kept, [section]: { machine: machineInfo(), ...body } });
}
