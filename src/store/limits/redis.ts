/**
 * @file Redis rate-limit counters (redis://[user:password@]host:port[/db], rediss:// for TLS), shared
 * by every gateway replica that points at the same server. One Lua script (redis-script.ts) checks
 * and increments all counters of a consume atomically. Windows are placed with the caller's `now`
 * (docs/rate-limits.md says why). Fail fast: no offline queue, no command retries, every consume
 * bounded by `timeoutMs`; the client reconnects in the background with capped backoff, and consume
 * answers again as soon as it is back. Single node only: Redis Cluster is not supported.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { HeistError } from '../../core/errors.js';
import { CONSUME_LUA } from './redis-script.js';
import type { LimitDecision, LimitStore, LimitStoreEntry } from './types.js';
import { withoutPassword } from '../url.js';
import { placeChecks } from './windows.js';

/** Prefix of every key this store writes. */
export const KEY_PREFIX = 'heist:rl:';
/** Ms a counter outlives its window, so a replica whose clock lags by less still finds it. */
export const SKEW_GRACE_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 200;
/** Reconnect backoff: 50, 100, 200, ... ms, capped here. */
const MAX_BACKOFF_MS = 1_000;
/** ioredis states in which a connection attempt is under way, worth waiting for (within the timeout). */
const ATTEMPTING = new Set(['wait', 'connecting', 'connect']);

interface Target {
  readonly options: RedisOptions;
  /** The URL minus its password. */
  readonly url: string;
  readonly password: string;
}

/** Parses `[user:password@]host[:port][/db]`; a malformed one is HEIST_ERR_BAD_CONFIG (password masked). */
function parseTarget(scheme: 'redis' | 'rediss', location: string): Target {
  const given = `${scheme}://${location}`;
  const url = withoutPassword(given);
  const bad = (why: string): HeistError =>
    new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `rate-limit store URL ${url}: ${why} (want ${scheme}://[:password@]host:port[/db])`,
    );
  let u: URL;
  try {
    u = new URL(given);
  } catch {
    throw bad('not a URL');
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw bad('no host');
  if (u.search !== '' || u.hash !== '') throw bad('query strings and fragments are not supported');
  const db = u.pathname === '' || u.pathname === '/' ? 0 : Number(u.pathname.slice(1));
  if (!Number.isSafeInteger(db) || db < 0) throw bad('the path must be a database number');
  const password = decodeURIComponent(u.password);
  const username = decodeURIComponent(u.username);
  return {
    url,
    password,
    options: {
      host,
      port: u.port === '' ? 6379 : Number(u.port),
      db,
      ...(username !== '' ? { username } : {}),
      ...(password !== '' ? { password } : {}),
      // Node verifies the certificate against the system CAs (and NODE_EXTRA_CA_CERTS) and the host name.
      ...(scheme === 'rediss' ? { tls: {} } : {}),
    },
  };
}

type ScriptReply = number | [number, number];

interface WithConsume {
  heistConsume(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<ScriptReply>;
}

/** Rejects with `onTimeout()` unless `p` settles within `ms`; a late rejection of `p` is swallowed. */
function within<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  p.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export function redisLimitStore(
  scheme: 'redis' | 'rediss',
  location: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): LimitStore {
  const target = parseTarget(scheme, location);
  const clean = (s: string): string => (target.password === '' ? s : s.split(target.password).join('***'));
  const unavailable = (why: string): HeistError =>
    new HeistError('HEIST_ERR_LIMITS_UNAVAILABLE', `rate-limit store ${target.url} is unavailable: ${clean(why)}`);

  const client = new Redis({
    ...target.options,
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A consume cut off by a lost connection was answered as unavailable; never replay it later.
    autoResendUnfulfilledCommands: false,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(1_000, 5 * timeoutMs),
    // A server that stops answering (host gone, no RST) is dropped and reconnected.
    socketTimeout: Math.max(1_000, 5 * timeoutMs),
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times - 1, 10), MAX_BACKOFF_MS),
    disableClientInfo: true,
    scripts: { heistConsume: { lua: CONSUME_LUA } },
  });
  const script = client as unknown as WithConsume;

  let closed = false;
  let lastError: string | undefined;
  // Consumes waiting for a connection attempt to finish; told once by 'ready', 'close' or 'end'.
  const waiters = new Set<(ready: boolean) => void>();
  const settle = (ready: boolean): void => {
    for (const w of [...waiters]) w(ready);
  };
  // Without an 'error' listener ioredis prints every connection error; the last one names the cause.
  client.on('error', (e: Error) => {
    lastError = e.message;
  });
  client.on('ready', () => {
    lastError = undefined;
    settle(true);
  });
  client.on('close', () => settle(false));
  client.on('end', () => settle(false));

  const connected = (ms: number): Promise<boolean> => {
    if (client.status === 'ready') return Promise.resolve(true);
    if (!ATTEMPTING.has(client.status)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ready: boolean): void => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve(ready);
      };
      const timer = setTimeout(() => done(false), ms);
      waiters.add(done);
    });
  };

  const notConnected = (): string =>
    lastError ?? (client.status === 'reconnecting' ? 'reconnecting' : `not connected (${client.status})`);

  return {
    url: target.url,
    async consume(checks, now): Promise<LimitDecision> {
      const placed = placeChecks(checks, now);
      if (closed) throw unavailable('the store is closed');
      if (checks.length === 0) return { allowed: true };
      const started = performance.now();
      if (!(await connected(timeoutMs))) throw unavailable(closed ? 'the store is closed' : notConnected());
      const left = Math.max(1, timeoutMs - (performance.now() - started));
      const args: (string | number)[] = placed.map((p) => KEY_PREFIX + p.counter);
      for (let i = 0; i < checks.length; i++) args.push(checks[i].limit, checks[i].cost, placed[i].msToEnd);
      args.push(SKEW_GRACE_MS);
      let reply: ScriptReply;
      try {
        reply = await within(script.heistConsume(checks.length, ...args), left, () =>
          unavailable(`no answer within ${timeoutMs} ms`),
        );
      } catch (e) {
        if (e instanceof HeistError) throw e;
        const message = (e as Error).message;
        throw unavailable(/max retries per request/i.test(message) ? 'connection lost' : message);
      }
      if (reply === -1) return { allowed: true };
      if (Array.isArray(reply) && reply.length === 2 && Number.isInteger(reply[0]) && reply[0] >= 0)
        return { allowed: false, violated: Number(reply[0]), retryAfterMs: Number(reply[1]) };
      throw unavailable(`unexpected script reply ${JSON.stringify(reply)}`);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      settle(false);
      if (client.status === 'ready') {
        await within(client.quit(), timeoutMs, () => new Error('quit timed out')).catch(() => {});
      }
      client.disconnect();
    },
  };
}

const options = z.object({ location: z.string(), timeoutMs: z.number().int().positive().optional() }).strict();

export const redis: LimitStoreEntry = {
  name: 'redis',
  summary: 'Redis counters shared by gateway replicas (redis://[:password@]host:port[/db]), one atomic Lua script',
  options,
  example: { location: '127.0.0.1:6379' },
  create: (o) => redisLimitStore('redis', o.location, o.timeoutMs),
};

export const rediss: LimitStoreEntry = {
  name: 'rediss',
  summary: 'the redis store over TLS (rediss://[:password@]host:port[/db]), certificate checked against the system CAs',
  options,
  example: { location: 'localhost:6380' },
  create: (o) => redisLimitStore('rediss', o.location, o.timeoutMs),
};
