/**
 * Tampering with the audit log through the database itself, as someone with write access would,
 * for SQLite and PostgreSQL: a changed field, changed input bytes, a deleted record, a deleted row,
 * a forged record inserted, two records swapped, a tamper after a prune. verify names the first bad
 * record (log, seq); so does `heist audit verify` (exit code 2, HEIST_ERR_AUDIT_TAMPERED). And the
 * documented limit: whoever rewrites the whole chain fools plain SHA-256, not the HMAC key, and
 * changes the head hash an operator anchored elsewhere.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../../src/datasets/paths.js';
import { recordHash } from '../../src/store/audit-chain.js';
import { packFloats, unpackFloats } from '../../src/store/audit-codec.js';
import { auditStores } from '../../src/store/index.js';
import type { AuditStore, AuditStoreOptions, StoredAuditRecord } from '../../src/store/types.js';
import { sampleRecord, storeFixtures } from './fixtures.js';

const RECORDS = 6;
const KEY = Buffer.from('tamper-test-hmac-key-0123456789');

function heist(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/heist.js'), ...args], {
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

for (const name of ['sqlite', 'postgres']) {
  const fx = storeFixtures[name];
  describe(`tampering with a ${name} audit log is detected`, { skip: fx.skip }, () => {
    const stores: AuditStore[] = [];
    before(() => fx.setup());
    after(async () => {
      for (const s of stores) await s.close();
      await fx.teardown();
    });

    /**
     * A fresh log of RECORDS records (none, 1 or 3 rows each), SQL on its database, and its store,
     * kept open: it reads what the SQL changed.
     */
    async function logWith(o: Omit<AuditStoreOptions, 'location'> = {}) {
      const location = await fx.fresh();
      const store: AuditStore = await auditStores.create(name, { location, ...o }, undefined);
      stores.push(store);
      await store.append(Array.from({ length: RECORDS }, (_, i) => sampleRecord(i === 3 ? 0 : i)));
      const records = await store.query();
      const sql = (statement: string, params: unknown[] = []) => fx.sql(location, statement, params);
      const idOf = async (seq: number): Promise<number> =>
        Number((await sql('SELECT id FROM heist_audit_records WHERE seq = ?', [seq]))[0].id);
      return { location, store, records, sql, idOf, verify: () => store.verify() };
    }

    test('an untouched log verifies, with its head hash', async () => {
      const { records, verify } = await logWith();
      const r = await verify();
      assert.equal(r.ok, true);
      assert.deepEqual(r.logs, [{ log: 'main', records: RECORDS, head: records[RECORDS - 1].hash, fromSeq: 1 }]);
    });

    test('a changed field of a record', async () => {
      const { sql, verify } = await logWith();
      await sql("UPDATE heist_audit_records SET client_id = 'key:someone-else' WHERE seq = 3");
      assert.deepEqual((await verify()).firstBad?.seq, 3);
    });

    test("a changed value of a row's input", async () => {
      const { sql, idOf, verify } = await logWith();
      const id = await idOf(4); // sampleRecord(0): three rows, an MNIST-like input first
      const [row] = await sql('SELECT input FROM heist_audit_rows WHERE record_id = ? AND pos = 0', [id]);
      const input = unpackFloats(row.input as Buffer);
      input[100] = 1;
      await sql('UPDATE heist_audit_rows SET input = ? WHERE record_id = ? AND pos = 0', [packFloats(input), id]);
      const r = await verify();
      assert.equal(r.firstBad?.seq, 4);
      assert.match(r.firstBad?.reason ?? '', /hash does not match/);
    });

    test("flipped bytes of a row's stored input (undecodable)", async () => {
      const { sql, idOf, verify } = await logWith();
      const id = await idOf(5);
      const [row] = await sql('SELECT input FROM heist_audit_rows WHERE record_id = ? AND pos = 0', [id]);
      const bytes = Buffer.from(row.input as Buffer);
      bytes[0] = 9; // an unknown encoding tag
      await sql('UPDATE heist_audit_rows SET input = ? WHERE record_id = ? AND pos = 0', [bytes, id]);
      const r = await verify();
      assert.equal(r.firstBad?.seq, 5);
      assert.match(r.firstBad?.reason ?? '', /unreadable/);
    });

    test('a deleted record', async () => {
      const { sql, idOf, verify } = await logWith();
      const id = await idOf(3);
      await sql('DELETE FROM heist_audit_rows WHERE record_id = ?', [id]);
      await sql('DELETE FROM heist_audit_records WHERE id = ?', [id]);
      const r = await verify();
      assert.deepEqual(r.firstBad, { log: 'main', seq: 3, reason: 'missing: the chain jumps from seq 2 to seq 4' });
    });

    test('the first record deleted', async () => {
      const { sql, verify } = await logWith();
      await sql('DELETE FROM heist_audit_records WHERE seq = 1');
      assert.equal((await verify()).firstBad?.seq, 1);
    });

    test('a deleted row, and an added one', async () => {
      const { sql, idOf, verify } = await logWith();
      await sql('DELETE FROM heist_audit_rows WHERE record_id = ? AND pos = 1', [await idOf(5)]);
      assert.equal((await verify()).firstBad?.seq, 5);
      const again = await logWith();
      await again.sql(
        'INSERT INTO heist_audit_rows (record_id, pos, idx, input_hash) SELECT record_id, 9, 9, input_hash FROM heist_audit_rows WHERE record_id = ? AND pos = 0',
        [await again.idOf(2)],
      );
      assert.equal((await again.verify()).firstBad?.seq, 2);
    });

    test('a forged record inserted, even one hashed the way verify hashes', async () => {
      const { records, sql, verify } = await logWith();
      // Make room at seq 3 (two steps: (log, seq) is unique), then insert a record chained after seq 2.
      await sql('UPDATE heist_audit_records SET seq = -seq WHERE seq >= 3');
      await sql('UPDATE heist_audit_records SET seq = 1 - seq WHERE seq < 0');
      const forged = sampleRecord(3, { requestId: 'forged', rows: [] });
      const at = { log: 'main', seq: 3, prevHash: records[1].hash };
      await sql(
        `INSERT INTO heist_audit_records (log, seq, at, request_id, client_id, ip, route, status, outcome, latency_ms, prev_hash, hash)
         VALUES ('main', 3, ?, 'forged', ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          forged.at,
          forged.clientId,
          forged.ip,
          forged.route,
          forged.status,
          forged.outcome,
          forged.latencyMs,
          Buffer.from(at.prevHash, 'hex'),
          Buffer.from(recordHash({ ...forged, flags: [], tier: undefined, model: undefined }, at), 'hex'),
        ],
      );
      // The forgery itself chains; the record it pushed to seq 4 does not chain after it.
      const r = await verify();
      assert.equal(r.firstBad?.seq, 4);
      assert.match(r.firstBad?.reason ?? '', /prevHash is not the previous record/);
    });

    test('two records swapped', async () => {
      const { sql, verify } = await logWith();
      await sql('UPDATE heist_audit_records SET seq = 100 WHERE seq = 2');
      await sql('UPDATE heist_audit_records SET seq = 2 WHERE seq = 5');
      await sql('UPDATE heist_audit_records SET seq = 5 WHERE seq = 100');
      assert.equal((await verify()).firstBad?.seq, 2);
    });

    test('a tamper after a prune is still detected', async () => {
      const { store, records, sql, verify } = await logWith();
      assert.equal(await store.prune(records[2].at), 2);
      assert.equal((await verify()).ok, true);
      await sql('UPDATE heist_audit_records SET outcome = ? WHERE seq = 4', ['HEIST_ERR_FORBIDDEN']);
      assert.equal((await verify()).firstBad?.seq, 4);
      // Dropping the anchor (to hide the prune, or re-start the chain) is a tamper too.
      const fresh = await logWith();
      await fresh.store.prune(fresh.records[2].at);
      await fresh.sql('DELETE FROM heist_audit_anchors');
      assert.equal((await fresh.verify()).firstBad?.seq, 1);
    });

    test('prune refuses a log that does not verify (it would destroy the evidence)', async () => {
      const { store, sql } = await logWith();
      await sql("UPDATE heist_audit_records SET ip = '6.6.6.6' WHERE seq = 2");
      await assert.rejects(store.prune(Number.MAX_SAFE_INTEGER), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'HEIST_ERR_AUDIT_TAMPERED');
        assert.match(e.message, /seq 2/);
        return true;
      });
      assert.equal(await store.count(), RECORDS);
    });

    test('the whole chain rewritten: plain SHA-256 is fooled, the HMAC key and the anchored head are not', async () => {
      for (const key of [undefined, KEY]) {
        const { records, sql, verify } = await logWith(key ? { hmacKey: KEY } : {});
        const anchoredHead = records[RECORDS - 1].hash;
        // The attacker edits record 2 and recomputes every hash from there on, without the key.
        const edited: StoredAuditRecord[] = records.map((r) => (r.seq === 2 ? { ...r, clientId: 'key:innocent' } : r));
        let prevHash = records[0].hash;
        for (const r of edited.slice(1)) {
          const hash = recordHash(r, { log: r.log, seq: r.seq, prevHash });
          await sql('UPDATE heist_audit_records SET client_id = ?, prev_hash = ?, hash = ? WHERE seq = ?', [
            r.clientId,
            Buffer.from(prevHash, 'hex'),
            Buffer.from(hash, 'hex'),
            r.seq,
          ]);
          prevHash = hash;
        }
        const report = await verify();
        if (key) assert.equal(report.firstBad?.seq, 2, 'the HMAC chain catches it');
        else assert.equal(report.ok, true, 'a plain chain rebuilt by the attacker verifies');
        assert.notEqual(report.logs[0].head, anchoredHead, 'but the head hash anchored elsewhere changed');
      }
    });

    test('heist audit verify: exit 0 with the head, exit 2 naming the first bad record', async () => {
      const good = await logWith({ hmacKey: KEY });
      const bad = await logWith({ hmacKey: KEY });
      await bad.sql('UPDATE heist_audit_records SET status = 500 WHERE seq = 4');
      // PostgreSQL: the password goes in PGPASSWORD, not on the command line.
      const secret = fx.secret(good.location);
      const url = (location: string) => fx.url(secret ? location.replace(`:${secret}@`, '@') : location);
      const env = { AUDIT_KEY: KEY.toString('utf8'), ...(secret ? { PGPASSWORD: secret } : {}) };
      const verify = (location: string) =>
        heist(['audit', 'verify', '--audit', url(location), '--hmac-key-env', 'AUDIT_KEY'], env);
      // The CLI takes seconds to start: both at once.
      const [ok, tampered] = await Promise.all([verify(good.location), verify(bad.location)]);
      assert.equal(ok.code, 0, ok.err);
      assert.match(ok.out, new RegExp(`ok, ${RECORDS} records in 1 log`));
      assert.ok(ok.out.includes(good.records[RECORDS - 1].hash), 'prints the head hash');
      assert.equal(tampered.code, 2);
      assert.match(tampered.out, /first bad record: log main seq 4: hash does not match/);
      assert.match(tampered.err, /HEIST_ERR_AUDIT_TAMPERED: log main seq 4/);
      if (secret) assert.ok(!`${ok.out}${tampered.out}${tampered.err}`.includes(secret), 'no password in the output');
    });
  });
}
