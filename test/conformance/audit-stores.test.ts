/**
 * Every registered audit store through the audit-store conformance suite: records round-trip with
 * every field and row intact (bit for bit, floats included) and chained exactly as audit-chain.ts
 * says; the filters; concurrent appends chained in call order without gaps; durability across a
 * reopen; several logs and several writers on one database; verify, with and without an HMAC key;
 * prune and verify after it. SQLite runs in temp files, PostgreSQL via test/helpers/postgres.ts
 * (skipped off CI when it is not installed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import { GENESIS, recordHash } from '../../src/store/audit-chain.js';
import { auditStores, openAuditStore } from '../../src/store/index.js';
import type { AuditRecord, AuditStore, AuditStoreOptions, StoredAuditRecord } from '../../src/store/types.js';
import { sampleRecord, storeFixtures } from '../store/fixtures.js';

/** The record as comparable data: float arrays as hex of their bytes, so NaN and -0 compare exactly. */
function plain(r: AuditRecord): unknown {
  const f = (a: Float32Array | undefined) =>
    a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex') : a;
  const out = (o: { label: number; scores?: Float32Array } | undefined) =>
    o ? { label: o.label, ...(o.scores ? { scores: f(o.scores) } : {}) } : undefined;
  const { log: _l, seq: _s, prevHash: _p, hash: _h, ...fields } = r as StoredAuditRecord;
  return {
    ...fields,
    flags: [...r.flags],
    rows: r.rows.map((row) => ({
      index: row.index,
      inputHash: row.inputHash,
      ...(row.input ? { input: f(row.input) } : {}),
      ...(row.raw ? { raw: out(row.raw) } : {}),
      ...(row.served ? { served: out(row.served) } : {}),
    })),
  };
}

test('every registered audit store has a test fixture', () => {
  assert.deepEqual(
    auditStores.names().filter((n) => !storeFixtures[n]),
    [],
  );
});

for (const entry of auditStores.entries()) {
  const fx = storeFixtures[entry.name];
  if (!fx) continue;
  describe(`audit store ${entry.name} conforms`, { skip: fx.skip }, () => {
    const open: AuditStore[] = [];
    before(() => fx.setup());
    after(async () => {
      for (const s of open) await s.close();
      await fx.teardown();
    });
    const create = async (location: string, o: Omit<AuditStoreOptions, 'location'> = {}): Promise<AuditStore> => {
      const s = await auditStores.create(entry.name, { location, ...o }, undefined);
      open.push(s);
      return s;
    };

    test('records round-trip with every field and row intact, chained as audit-chain.ts says', async () => {
      const location = await fx.fresh();
      const s = await create(location);
      assert.equal(s.log, 'main');
      const secret = fx.secret(location);
      if (secret) assert.ok(!s.url.includes(secret), 'the url has no password');
      const records = Array.from({ length: 8 }, (_, i) => sampleRecord(i));
      await s.append(records.slice(0, 3));
      await s.append([]);
      await s.append(records.slice(3));
      const got = await s.query();
      assert.deepEqual(got.map(plain), records.map(plain));
      got.forEach((r, i) => {
        assert.equal(r.log, 'main');
        assert.equal(r.seq, i + 1);
        assert.equal(r.prevHash, i === 0 ? GENESIS : got[i - 1].hash);
        assert.equal(r.hash, recordHash(records[i], r));
      });
      assert.equal(await s.count(), 8);
      assert.equal(
        await s.countRows(),
        records.reduce((n, r) => n + r.rows.length, 0),
      );
    });

    test('filters: client, model, since, until, log, limit and the (log, seq) cursor', async () => {
      const location = await fx.fresh();
      const a = await create(location, { log: 'a' });
      const b = await create(location, { log: 'b' });
      const recs = Array.from({ length: 8 }, (_, i) => sampleRecord(i));
      await a.append(recs.slice(0, 5));
      await b.append(recs.slice(5));
      const ids = (rs: StoredAuditRecord[]) => rs.map((r) => r.requestId);
      const all = await a.query();
      assert.deepEqual(
        all.map((r) => `${r.log}${r.seq}`),
        ['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3'],
      );
      assert.deepEqual(ids(await b.query({ clientId: 'key:alice' })), ['req-0', 'req-2', 'req-4', 'req-6']);
      assert.deepEqual(ids(await a.query({ model: 'digits' })), ['req-0', 'req-3']);
      assert.deepEqual(ids(await a.query({ since: recs[2].at, until: recs[5].at })), [
        'req-2',
        'req-3',
        'req-4',
        'req-5',
      ]);
      assert.deepEqual(ids(await a.query({ log: 'b' })), ['req-5', 'req-6', 'req-7']);
      assert.deepEqual(ids(await a.query({ limit: 2 })), ['req-0', 'req-1']);
      assert.deepEqual(ids(await a.query({ after: { log: 'a', seq: 4 }, limit: 3 })), ['req-4', 'req-5', 'req-6']);
      assert.deepEqual(ids(await a.query({ after: { log: 'b', seq: 3 } })), []);
      assert.equal(await a.count({ clientId: 'ip:10.0.0.2' }), 4);
      assert.equal(await a.count({ log: 'a', since: recs[3].at }), 2);
      assert.equal(
        await a.countRows({ log: 'a' }),
        recs.slice(0, 5).reduce((n, r) => n + r.rows.length, 0),
      );
      assert.equal(await a.countRows({ model: 'nope' }), 0);
    });

    test('concurrent appends are all durable and chained in call order, without gaps', async () => {
      const s = await create(await fx.fresh());
      const batches = Array.from({ length: 60 }, (_, i) =>
        Array.from({ length: 1 + (i % 3) }, (_, j) => sampleRecord(i, { requestId: `c${i}-${j}` })),
      );
      await Promise.all(batches.map((b) => s.append(b)));
      const got = await s.query();
      assert.deepEqual(
        got.map((r) => r.requestId),
        batches.flat().map((r) => r.requestId),
      );
      assert.deepEqual(
        got.map((r) => r.seq),
        got.map((_, i) => i + 1),
      );
      assert.equal((await s.verify()).ok, true);
    });

    test('appends are durable: a store reopened on the location sees them and continues the chain', async () => {
      const location = await fx.fresh();
      const first = await create(location);
      await first.append([sampleRecord(0), sampleRecord(1)]);
      await first.close();
      const again = await create(location);
      assert.equal(await again.count(), 2);
      await again.append([sampleRecord(2)]);
      const got = await again.query();
      assert.deepEqual(
        got.map((r) => r.seq),
        [1, 2, 3],
      );
      assert.equal(got[2].prevHash, got[1].hash);
      assert.equal((await again.verify()).ok, true);
      await assert.rejects(first.append([sampleRecord(3)]), (e) => isHeistError(e, 'HEIST_ERR_AUDIT_UNAVAILABLE'));
    });

    test('several writers on one database: own logs never interleave, a shared log never forks', async () => {
      const location = await fx.fresh();
      const a = await create(location, { log: 'replica-a' });
      const b = await create(location, { log: 'replica-b' });
      const a2 = await create(location, { log: 'replica-a' });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => [
          a.append([sampleRecord(i, { requestId: `a${i}` })]),
          b.append([sampleRecord(i, { requestId: `b${i}` })]),
          a2.append([sampleRecord(i, { requestId: `a2-${i}` })]),
        ]).flat(),
      );
      const report = await a.verify();
      assert.equal(report.ok, true, JSON.stringify(report.firstBad));
      assert.deepEqual(
        report.logs.map((l) => [l.log, l.records, l.fromSeq]),
        [
          ['replica-a', 40, 1],
          ['replica-b', 20, 1],
        ],
      );
      const heads = await a.query({ log: 'replica-b' });
      assert.equal(report.logs[1].head, heads[heads.length - 1].hash);
      assert.deepEqual((await a.verify({ log: 'replica-b' })).logs.length, 1);
    });

    test('verify with an HMAC key: the same key verifies, none or another key does not', async () => {
      const location = await fx.fresh();
      const key = Buffer.from('a-secret-key-of-32-bytes-length!');
      const s = await create(location, { hmacKey: key });
      await s.append([sampleRecord(0), sampleRecord(1)]);
      const got = await s.query();
      assert.equal(got[0].hash, recordHash(sampleRecord(0), got[0], key));
      assert.equal((await s.verify()).ok, true);
      const plainStore = await create(location);
      assert.equal((await plainStore.verify()).firstBad?.seq, 1);
      const otherKey = await create(location, { hmacKey: Buffer.from('another-key-of-some-length') });
      assert.match((await otherKey.verify()).firstBad?.reason ?? '', /HMAC/);
    });

    test('prune deletes the oldest whole records, re-anchors each chain, and verify still passes', async () => {
      const location = await fx.fresh();
      const s = await create(location);
      const other = await create(location, { log: 'other' });
      // seq 4 arrived at 2500, after seq 3 (3000): a late record.
      const at = [1000, 2000, 3000, 2500, 5000];
      await s.append(at.map((t, i) => sampleRecord(i, { at: t })));
      await other.append([sampleRecord(9, { at: 9000 })]);
      assert.equal(await s.prune(2200), 2, 'seq 1-2 of main');
      let report = await s.verify();
      assert.equal(report.ok, true, JSON.stringify(report.firstBad));
      assert.deepEqual(
        report.logs.map((l) => [l.log, l.records, l.fromSeq]),
        [
          ['main', 3, 3],
          ['other', 1, 1],
        ],
      );
      // 2500 < 2600 but comes after 3000: the chain cannot lose seq 3 and keep seq 4, so both stay.
      assert.equal(await s.prune(2600), 0);
      assert.equal(await s.prune(4000), 2);
      assert.deepEqual(
        (await s.query()).map((r) => `${r.log}${r.seq}`),
        ['main5', 'other1'],
      );
      // Everything pruned: the chain goes on from its anchor.
      const head = (await s.verify()).logs[0].head;
      assert.equal(await s.prune(10_000), 2);
      report = await s.verify();
      assert.deepEqual(report.logs, [
        { log: 'main', records: 0, head, fromSeq: 6 },
        { log: 'other', records: 0, head: report.logs[1].head, fromSeq: 2 },
      ]);
      await s.append([sampleRecord(6, { at: 6000 })]);
      const [next] = await s.query();
      assert.equal(next.seq, 6);
      assert.equal(next.prevHash, head);
      assert.equal((await s.verify()).ok, true);
      assert.equal(await s.count(), 1);
    });

    test('opening without createIfMissing on a location with no log is a configuration error', async () => {
      const location = await fx.fresh();
      await assert.rejects(openAuditStore(fx.url(location), { createIfMissing: false }), (e) =>
        isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
      );
    });
  });
}

test('unknown schemes and malformed URLs are configuration errors', async () => {
  for (const url of ['mongodb://x', 'audit.db', 'postgres://'])
    await assert.rejects(openAuditStore(url), (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'), url);
});
