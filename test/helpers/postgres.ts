/**
 * A PostgreSQL server for tests. With HEIST_TEST_PG_URL set (CI sources .ci/postgres.sh), each
 * startPostgres() creates a fresh database on that server (fresh() makes more) and stop() drops
 * them, so test files never see each other's tables. Otherwise it starts a throwaway cluster
 * (fresh() adds databases to it): initdb into a temp directory (as an unprivileged user when we are
 * root: postgres, else nobody), pg_ctl start on a free loopback port with the unix socket in that
 * directory, password auth (so store URLs carry a password to redact), fsync off (tests do not
 * pull the plug); stop() stops it and removes the directory. Binaries: initdb on PATH, else the
 * newest /usr/lib/postgresql/<v>/bin. postgresSkipReason() says why a test should skip: never on
 * CI (CI=true), where a missing PostgreSQL makes startPostgres() throw and the test fail.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://user:password@127.0.0.1:port/database */
  readonly url: string;
  /** The URL of another new, empty database on the same server (dropped by stop()). */
  fresh(): Promise<string>;
  stop(): Promise<void>;
}

const newName = (): string => `heist_test_${process.pid}_${randomBytes(4).toString('hex')}`;

async function admin<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** Databases created on the server at `adminUrl`, handed out by URL and dropped together. */
function databases(adminUrl: string): { create(): Promise<string>; dropAll(): Promise<void> } {
  const made: string[] = [];
  return {
    async create() {
      const db = newName();
      await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${db}`));
      made.push(db);
      const url = new URL(adminUrl);
      url.pathname = `/${db}`;
      return url.toString();
    },
    async dropAll() {
      await admin(adminUrl, async (c) => {
        for (const db of made.splice(0)) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      });
    },
  };
}

function binDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter))
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can (always undefined on CI). */
export function postgresSkipReason(): string | undefined {
  if (process.env.HEIST_TEST_PG_URL || process.env.CI === 'true') return undefined;
  return binDir() ? undefined : 'PostgreSQL server binaries (initdb, pg_ctl) not found and HEIST_TEST_PG_URL not set';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The unprivileged user to run the server as when we are root. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('running as root and there is neither a postgres nor a nobody user to run PostgreSQL as');
}

async function onServer(): Promise<TestPostgres> {
  const dbs = databases(process.env.HEIST_TEST_PG_URL!);
  return { url: await dbs.create(), fresh: () => dbs.create(), stop: () => dbs.dropAll() };
}

async function throwaway(): Promise<TestPostgres> {
  const bin = binDir();
  if (!bin) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found and HEIST_TEST_PG_URL not set');
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'heist-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'pw'), `${password}\n`);
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(join(dir, 'pw'), user.uid, user.gid);
  }
  const run = (cmd: string, args: string[]): void => {
    const [file, argv] = user ? ['runuser', ['-u', user.name, '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  const port = await freePort();
  try {
    run('initdb', [
      '-D',
      data,
      '-U',
      'heist',
      '--auth=scram-sha-256',
      `--pwfile=${join(dir, 'pw')}`,
      '-E',
      'UTF8',
      '--locale=C',
      '-N',
    ]);
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`,
      'start',
    ]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`cannot start a throwaway PostgreSQL: ${err.stderr?.toString() || err.message}`);
  }
  const url = `postgres://heist:${password}@127.0.0.1:${port}/postgres`;
  const dbs = databases(url);
  return {
    url,
    fresh: () => dbs.create(),
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A PostgreSQL database of its own for the caller; throws when none can be had. */
export function startPostgres(): Promise<TestPostgres> {
  return process.env.HEIST_TEST_PG_URL ? onServer() : throwaway();
}
