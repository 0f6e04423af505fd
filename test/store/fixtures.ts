/**
 * Where each registered audit store gets a fresh, empty database in tests, and raw SQL on it (what a
 * tamperer with write access to the database does): SQLite in temp files, PostgreSQL through
 * test/helpers/postgres.ts (a fresh database per location). The conformance suite fails for a
 * registered store without a fixture here. Also: records that exercise every field.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { AuditRecord } from '../../src/store/types.js';
import { postgresSkipReason, startPostgres, type TestPostgres } from '../helpers/postgres.js';

export interface StoreFixture {
  /** Why this store's tests cannot run here; undefined when they can. */
  readonly skip?: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** The location (URL after "scheme://") of a new, empty database. */
  fresh(): Promise<string>;
  /** The URL for a location. */
  url(location: string): string;
  /** Runs one statement (`?` placeholders) on the location, as an attacker with write access would. */
  sql(location: string, statement: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Text that must never show in the store's url or errors (the password). */
  secret(location: string): string | undefined;
}

function sqliteFixture(): StoreFixture {
  let dir = '';
  let n = 0;
  return {
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'heist-audit-'));
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
    async fresh() {
      return join(dir, `audit-${++n}.db`);
    },
    url: (location) => `sqlite://${location}`,
    async sql(location, statement, params = []) {
      const db = new Database(location);
      try {
        const st = db.prepare(statement);
        if (st.reader) return st.all(...params) as Record<string, unknown>[];
        st.run(...params);
        return [];
      } finally {
        db.close();
      }
    },
    secret: () => undefined,
  };
}

function postgresFixture(): StoreFixture {
  let server: TestPostgres | undefined;
  return {
    skip: postgresSkipReason(),
    async setup() {
      server = await startPostgres();
    },
    async teardown() {
      await server?.stop();
    },
    async fresh() {
      return (await server!.fresh()).replace(/^postgres(ql)?:\/\//, '');
    },
    url: (location) => `postgres://${location}`,
    async sql(location, statement, params = []) {
      let i = 0;
      const c = new pg.Client({ connectionString: `postgres://${location}` });
      await c.connect();
      try {
        return (
          await c.query(
            statement.replace(/\?/g, () => `$${++i}`),
            params,
          )
        ).rows;
      } finally {
        await c.end();
      }
    },
    secret: (location) => new URL(`postgres://${location}`).password || undefined,
  };
}

/** Registry name -> fixture. */
export const storeFixtures: Readonly<Record<string, StoreFixture>> = {
  sqlite: sqliteFixture(),
  postgres: postgresFixture(),
};

/** An MNIST-like row: 784 pixels, each k/255, mostly 0. */
export function mnistLike(seed: number): Float32Array {
  return Float32Array.from({ length: 784 }, (_, i) => ((i * 7 + seed * 13) % 5 === 0 ? ((i + seed) % 256) / 255 : 0));
}

/** A request record: `kind` picks which optional parts it has, so a handful of records covers them all. */
export function sampleRecord(i: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  const kind = i % 4;
  const scores = Float32Array.from([0.125, 0.625, 0.25]);
  return {
    at: 1_000_000 + i * 1000,
    requestId: `req-${i}`,
    clientId: i % 2 === 0 ? 'key:alice' : 'ip:10.0.0.2',
    ...(kind !== 3 ? { tier: 'gold' } : {}),
    ip: i % 2 === 0 ? '127.0.0.1' : '10.0.0.2',
    route: 'POST /v1/models/:name/predict',
    ...(kind !== 2 ? { model: i % 3 === 0 ? 'digits' : 'mnist' } : {}),
    status: kind === 1 ? 429 : 200,
    outcome: kind === 1 ? 'HEIST_ERR_RATE_LIMITED' : 'served',
    latencyMs: 1.25 + i / 3,
    flags: kind === 0 ? ['prada:suspicious', 'round:applied, "quoted"'] : [],
    rows:
      kind === 1
        ? [{ index: 0, inputHash: `h${i}-0` }]
        : kind === 3
          ? []
          : [
              // full row: MNIST-like input, raw scores, served scores that differ
              {
                index: 0,
                inputHash: 'ab'.repeat(16),
                input: mnistLike(i),
                raw: { label: 1, scores },
                served: { label: 1, scores: Float32Array.from([0.1, 0.7, 0.2]) },
              },
              // odd floats (-0, NaN, Infinity, 1/3) and served equal to raw
              {
                index: 1,
                inputHash: `not-hex-${i}`,
                input: Float32Array.from([-0, 1 / 3, -1e-30, 3e38]),
                raw: { label: 2, scores: Float32Array.from([Number.NaN, Number.POSITIVE_INFINITY, 0.5]) },
                served: { label: 2, scores: Float32Array.from([Number.NaN, Number.POSITIVE_INFINITY, 0.5]) },
              },
              // label-only answer, hash-only input
              { index: 2, inputHash: 'cd'.repeat(16), raw: { label: 0 }, served: { label: 0 } },
            ],
    ...overrides,
  };
}
