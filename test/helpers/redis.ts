/**
 * @file Throwaway Redis servers for tests: `startRedis()` runs redis-server on a free loopback port
 * with no persistence (`--save '' --appendonly no`, a temp dir), and can stop and restart it on the
 * same port. `redisForTest()` uses HEIST_TEST_REDIS_URL when it is set (a server CI started) and
 * otherwise starts one; tests that stop the server always start their own. Off CI a missing
 * redis-server skips (see `redisSkip`); on CI (CI=true) it is a failure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RedisServer {
  /** redis://[:password@]127.0.0.1:port */
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL, like a crash) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts a fresh, empty server on the same port. */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** Runs the server with `--requirepass`; `url` then carries it. */
  readonly password?: string;
}

const onCi = process.env.CI === 'true';

/** The redis-server binary: HEIST_REDIS_SERVER, else the first on PATH (or /usr/bin, /usr/sbin). */
export function redisServerBinary(): string | undefined {
  if (process.env.HEIST_REDIS_SERVER) return process.env.HEIST_REDIS_SERVER;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    try {
      accessSync(join(dir, 'redis-server'), constants.X_OK);
      return join(dir, 'redis-server');
    } catch {}
  }
  return undefined;
}

const missing = 'redis-server not found: install it (apt-get install redis-server) or set HEIST_REDIS_SERVER';

/** `skip` for tests that need their own server (stop/restart): a message off CI when there is no binary. */
export const redisServerSkip: string | false = onCi || redisServerBinary() ? false : missing;

/** `skip` for tests that any Redis serves: none needed when HEIST_TEST_REDIS_URL is set. */
export const redisSkip: string | false = process.env.HEIST_TEST_REDIS_URL ? false : redisServerSkip;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface Running {
  readonly child: ChildProcess;
  readonly dir: string;
}

/** Spawns redis-server and resolves once it accepts connections; rejects (with its log) if it exits first. */
function launch(binary: string, port: number, password: string | undefined): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'heist-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir, '--daemonize', 'no', '--logfile', '', '--loglevel', 'notice');
  if (password !== undefined) args.push('--requirepass', password);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let log = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-4000);
      if (log.includes('Ready to accept connections')) {
        child.off('exit', onExit);
        // Once ready, neither the server nor its pipes may keep a test process alive; the exit hook kills it.
        child.unref();
        for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
        resolve({ child, dir });
      }
    };
    const onExit = (code: number | null): void => {
      live.delete(child);
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`redis-server on port ${port} exited (${code}) before it was ready:\n${log}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (e) => reject(e));
  });
}

function kill(running: Running): Promise<void> {
  const { child, dir } = running;
  return new Promise((resolve) => {
    const done = (): void => {
      live.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', done);
    // The server was unref'd once ready: hold the process open until it has really exited.
    child.ref();
    child.kill('SIGKILL');
  });
}

/** A throwaway redis-server. Throws when there is no binary (tests guard with `redisServerSkip`). */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  if (!binary) throw new Error(missing);
  const { password } = options;
  let port = 0;
  let running: Running | undefined;
  // Another process may take the free port between the probe and the bind: try a few.
  for (let attempt = 0; running === undefined; attempt++) {
    port = await freePort();
    try {
      running = await launch(binary, port, password);
    } catch (e) {
      if (attempt >= 4) throw e;
    }
  }
  const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    async stop() {
      if (running) await kill(running);
      running = undefined;
    },
    async restart() {
      if (running) await kill(running);
      running = await launch(binary, port, password);
    },
  };
}

/** A Redis URL for tests that never stop the server: HEIST_TEST_REDIS_URL, or a server of their own. */
export async function redisForTest(): Promise<{ readonly url: string; close(): Promise<void> }> {
  const shared = process.env.HEIST_TEST_REDIS_URL;
  if (shared) return { url: shared, close: async () => {} };
  const server = await startRedis();
  return { url: server.url, close: () => server.stop() };
}
