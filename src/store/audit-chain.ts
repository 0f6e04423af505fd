/**
 * @file The audit log's hash chain, shared by every store and by verify so they agree bit for bit:
 * the canonical byte encoding of a record (every field, every row, floats as their float32 bytes),
 * its chain hash (SHA-256, or HMAC-SHA256 under a secret key, over the previous hash and that
 * encoding), and the walker that checks a log record by record from its anchor.
 *
 * Encoding v1, all integers big-endian: the tag "heist.audit/v1", then log, seq, at, requestId,
 * clientId, tier?, ip, route, model?, status, outcome, latencyMs, flags, rows. A string is u32 byte
 * length + UTF-8; an optional value is u8 0 (absent) or u8 1 + the value; seq and at are int64;
 * status, row index and labels int32; latencyMs float64; a float array is u32 count + its float32
 * values, little-endian; flags are u32 count + strings; each row is index, inputHash, input?, raw?,
 * served?, an output being label + scores?. Every length is explicit, so no two different records
 * encode to the same bytes.
 */
import { type Hash, type Hmac, createHash, createHmac } from 'node:crypto';
import { HeistError } from '../core/errors.js';
import type { AuditOutput, AuditRecord, StoredAuditRecord } from './types.js';

/** The prevHash of a log's first record. */
export const GENESIS = '0'.repeat(64);
const TAG = 'heist.audit/v1';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A record's place in its chain, before its hash is known. */
export interface ChainPosition {
  readonly log: string;
  readonly seq: number;
  readonly prevHash: string;
}

/** Float arrays at least this long go to a sink directly instead of through the buffer. */
const DIRECT_BYTES = 256;

/**
 * Grows a byte buffer field by field; with a sink (the chain hash), it feeds the sink instead, so
 * the large float arrays of a record are hashed where they lie rather than copied first.
 */
class Encoder {
  private buf = Buffer.allocUnsafe(1024);
  private n = 0;

  constructor(private readonly sink?: Hash | Hmac) {}

  /** Hands the buffered bytes to the sink (which consumes them at once) and empties the buffer. */
  flush(): void {
    if (!this.sink || this.n === 0) return;
    this.sink.update(this.buf.subarray(0, this.n));
    this.n = 0;
  }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.n++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.n);
    this.n += 4;
  }

  i32(v: number): void {
    this.room(4);
    this.buf.writeInt32BE(v, this.n);
    this.n += 4;
  }

  i64(v: number): void {
    this.room(8);
    this.buf.writeBigInt64BE(BigInt(v), this.n);
    this.n += 8;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleBE(v, this.n);
    this.n += 8;
  }

  str(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.u32(len);
    this.room(len);
    this.buf.write(s, this.n, 'utf8');
    this.n += len;
  }

  optStr(s: string | undefined): void {
    if (s === undefined) this.u8(0);
    else {
      this.u8(1);
      this.str(s);
    }
  }

  floats(a: Float32Array): void {
    this.u32(a.length);
    const bytes = float32Bytes(a);
    if (this.sink && bytes.length >= DIRECT_BYTES) {
      this.flush();
      this.sink.update(bytes);
      return;
    }
    this.room(bytes.length);
    bytes.copy(this.buf, this.n);
    this.n += bytes.length;
  }

  optFloats(a: Float32Array | undefined): void {
    if (a === undefined) this.u8(0);
    else {
      this.u8(1);
      this.floats(a);
    }
  }

  output(o: AuditOutput | undefined): void {
    if (o === undefined) this.u8(0);
    else {
      this.u8(1);
      this.i32(o.label);
      this.optFloats(o.scores);
    }
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

/** The float32 values as little-endian bytes (a view when the platform is little-endian). */
export function float32Bytes(a: Float32Array): Buffer {
  const view = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN) return view;
  const out = Buffer.allocUnsafe(a.byteLength);
  for (let i = 0; i < a.length; i++) out.writeFloatLE(a[i], i * 4);
  return out;
}

/** Little-endian float32 bytes back to values (always a fresh, aligned array). */
export function float32FromBytes(b: Uint8Array): Float32Array {
  if (b.byteLength % 4 !== 0) throw new Error(`a float32 array cannot be ${b.byteLength} bytes long`);
  const out = new Float32Array(b.byteLength / 4);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(b);
  else {
    const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  }
  return out;
}

const isInt32 = (v: number): boolean => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;

/**
 * Throws HEIST_ERR_INTERNAL when a record cannot be stored exactly (the gateway built it wrong):
 * `at` a safe integer, status, row indexes and labels int32, latencyMs finite.
 */
export function checkRecord(r: AuditRecord): void {
  const bad = (what: string): never => {
    throw new HeistError('HEIST_ERR_INTERNAL', `audit record ${r.requestId}: ${what}`);
  };
  if (!Number.isSafeInteger(r.at)) bad(`at must be an integer epoch ms, got ${r.at}`);
  if (!isInt32(r.status)) bad(`status must be an integer, got ${r.status}`);
  if (!Number.isFinite(r.latencyMs)) bad(`latencyMs must be finite, got ${r.latencyMs}`);
  for (const row of r.rows) {
    if (!isInt32(row.index)) bad(`row index must be an integer, got ${row.index}`);
    if (row.raw && !isInt32(row.raw.label)) bad(`row ${row.index}: raw label must be an integer`);
    if (row.served && !isInt32(row.served.label)) bad(`row ${row.index}: served label must be an integer`);
  }
}

/** The canonical bytes of a record at its chain position (see the file comment). */
export function encodeRecord(r: AuditRecord, at: Omit<ChainPosition, 'prevHash'>): Buffer {
  const e = new Encoder();
  encodeInto(e, r, at);
  return e.bytes();
}

function encodeInto(e: Encoder, r: AuditRecord, at: Omit<ChainPosition, 'prevHash'>): void {
  e.str(TAG);
  e.str(at.log);
  e.i64(at.seq);
  e.i64(r.at);
  e.str(r.requestId);
  e.str(r.clientId);
  e.optStr(r.tier);
  e.str(r.ip);
  e.str(r.route);
  e.optStr(r.model);
  e.i32(r.status);
  e.str(r.outcome);
  e.f64(r.latencyMs);
  e.u32(r.flags.length);
  for (const f of r.flags) e.str(f);
  e.u32(r.rows.length);
  for (const row of r.rows) {
    e.i32(row.index);
    e.str(row.inputHash);
    e.optFloats(row.input);
    e.output(row.raw);
    e.output(row.served);
  }
}

const chainHasher = (prevHash: string, key?: Uint8Array): Hash | Hmac =>
  (key ? createHmac('sha256', key) : createHash('sha256')).update(Buffer.from(prevHash, 'hex'));

/** hex( SHA-256(prevHash bytes ‖ encoding) ), or HMAC-SHA256 under `key`. */
export function chainHash(prevHash: string, encoding: Uint8Array, key?: Uint8Array): string {
  return chainHasher(prevHash, key).update(encoding).digest('hex');
}

/** The record's hash at its chain position: chainHash of its encoding, without building the encoding. */
export function recordHash(r: AuditRecord, at: ChainPosition, key?: Uint8Array): string {
  const h = chainHasher(at.prevHash, key);
  const e = new Encoder(h);
  encodeInto(e, r, at);
  e.flush();
  return h.digest('hex');
}

/**
 * An HMAC key as given by an operator (an environment variable's value): its UTF-8 bytes, at
 * least 16 of them. The same key must be used by every process that appends to or verifies a log.
 */
export function parseHmacKey(value: string | undefined, source: string): Buffer {
  if (value === undefined || value === '')
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `${source} is not set or empty: it must hold the audit HMAC key`);
  const key = Buffer.from(value, 'utf8');
  if (key.length < 16)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `the audit HMAC key in ${source} must be at least 16 bytes long`);
  return key;
}

/** Where a log's chain starts: seq 1 after GENESIS, or the first record kept by the last prune. */
export interface ChainAnchor {
  readonly seq: number;
  readonly prevHash: string;
}

export const START: ChainAnchor = { seq: 1, prevHash: GENESIS };

export interface LogReport {
  readonly log: string;
  readonly records: number;
  /** The hash of the last record (the anchor's hash when the log is empty): anchor it elsewhere. */
  readonly head: string;
  /** The seq the chain starts at: 1, or the first record kept by the last prune. */
  readonly fromSeq: number;
}

export interface BadRecord {
  readonly log: string;
  readonly seq: number;
  readonly reason: string;
}

/**
 * Checks one log's records, fed in seq order, from its anchor. The first failure is kept; later
 * records are still counted. A missing record is named by its own (missing) seq.
 */
export class ChainWalker {
  private expectSeq: number;
  private expectPrev: string;
  private n = 0;
  private last: string;
  private bad: BadRecord | undefined;

  constructor(
    readonly log: string,
    private readonly anchor: ChainAnchor,
    private readonly key?: Uint8Array,
  ) {
    this.expectSeq = anchor.seq;
    this.expectPrev = anchor.prevHash;
    this.last = anchor.prevHash;
  }

  /** Checks the next record; returns false once the log has failed. */
  next(r: StoredAuditRecord): boolean {
    this.n++;
    this.last = r.hash;
    if (this.bad) return false;
    const fail = (seq: number, reason: string): boolean => {
      this.bad = { log: this.log, seq, reason };
      return false;
    };
    if (r.log !== this.log) return fail(r.seq, `belongs to log "${r.log}"`);
    if (r.seq !== this.expectSeq) {
      if (r.seq > this.expectSeq)
        return fail(
          this.expectSeq,
          this.n === 1
            ? `missing: the chain should start at seq ${this.expectSeq} but starts at seq ${r.seq}`
            : `missing: the chain jumps from seq ${this.expectSeq - 1} to seq ${r.seq}`,
        );
      return fail(r.seq, `out of order: expected seq ${this.expectSeq}`);
    }
    if (r.prevHash !== this.expectPrev)
      return fail(
        r.seq,
        this.n === 1 ? 'prevHash does not match the chain anchor' : 'prevHash is not the previous record’s hash',
      );
    const want = recordHash(r, r, this.key);
    if (r.hash !== want)
      return fail(
        r.seq,
        this.key
          ? 'hash does not match its contents under the HMAC key (changed, forged, or written with another key)'
          : 'hash does not match its contents (changed or forged; or the log was written with an HMAC key)',
      );
    this.expectSeq = r.seq + 1;
    this.expectPrev = r.hash;
    return true;
  }

  /** A stored record that cannot even be decoded (a tampered blob or flags column) fails the log. */
  unreadable(seq: number, hash: string, message: string): false {
    this.n++;
    this.last = hash;
    if (!this.bad) this.bad = { log: this.log, seq, reason: `unreadable: ${message}` };
    return false;
  }

  get firstBad(): BadRecord | undefined {
    return this.bad;
  }

  report(): LogReport {
    return { log: this.log, records: this.n, head: this.last, fromSeq: this.anchor.seq };
  }
}
