/**
 * @file The compact storage layout shared by the SQLite and PostgreSQL stores: a record becomes one
 * `heist_audit_records` row and each of its input rows one `heist_audit_rows` row, with float arrays
 * as tagged blobs. Lossless: reading the columns back gives the record bit for bit, so its chain
 * hash (audit-chain.ts, computed over the float32 values, never over these blobs) still verifies.
 *
 * Float blob = tag byte + payload:
 *   0  raw float32, little-endian
 *   1  deflate-raw of the raw float32 bytes
 *   2  u16 divisor d (big-endian) + deflate-raw of one byte k per value, each value being exactly
 *      float32(k / d): MNIST-style pixels (k/255), digits (k/16), integers (d = 1), rounded scores
 *   3  (served scores only) the same values as the raw scores of the row
 *   4  the one-byte form of tag 2 with PackBits (packbits.ts) instead of deflate
 * The writer keeps the smallest of raw and tag 4. Tags 1 and 2 are still read, from older logs:
 * deflating arbitrary floats rarely paid and cost the audit worker over half its time at batch 256
 * (bench/gateway.ts profile), and deflating the one-byte form cost 20-40 µs a 784-pixel row, mostly
 * zlib's per-call set-up, against 4-9 µs for PackBits at 8% more bytes (docs/audit.md).
 * Input hash blob: 0 + the bytes of a lower-case hex hash, or 1 + UTF-8.
 */
import { inflateRawSync } from 'node:zlib';
import { float32Bytes, float32FromBytes } from './audit-chain.js';
import { packBits, unpackBits } from './packbits.js';
import type { AuditOutput, AuditRecord, AuditRow, StoredAuditRecord } from './types.js';

export interface RecordColumns {
  log: string;
  seq: number;
  at: number;
  request_id: string;
  client_id: string;
  tier: string | null;
  ip: string;
  route: string;
  model: string | null;
  status: number;
  outcome: string;
  latency_ms: number;
  /** JSON array; null when there are none. */
  flags: string | null;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface RowColumns {
  /** Position in the record's rows array (the key with the record). */
  pos: number;
  /** AuditRow.index. */
  idx: number;
  input_hash: Buffer;
  input: Buffer | null;
  raw_label: number | null;
  raw_scores: Buffer | null;
  served_label: number | null;
  served_scores: Buffer | null;
}

/** The order columns are written in (both stores' INSERTs use it). */
export const RECORD_COLUMNS = [
  'log',
  'seq',
  'at',
  'request_id',
  'client_id',
  'tier',
  'ip',
  'route',
  'model',
  'status',
  'outcome',
  'latency_ms',
  'flags',
  'prev_hash',
  'hash',
] as const satisfies readonly (keyof RecordColumns)[];

export const ROW_COLUMNS = [
  'pos',
  'idx',
  'input_hash',
  'input',
  'raw_label',
  'raw_scores',
  'served_label',
  'served_scores',
] as const satisfies readonly (keyof RowColumns)[];

const RAW = 0;
const DEFLATE = 1;
const BYTES = 2;
const SAME_AS_RAW = 3;
const PACKED_BYTES = 4;
/** Divisors tried for the one-byte-per-value form, most common first. */
const DIVISORS = [255, 1, 16, 100];
/** Below this many bytes, compression never pays for its header. */
const MIN_COMPRESS = 64;

/** One allocation and one copy: this runs for every stored array. */
function tagged(tag: number, payload: Uint8Array, header?: Uint8Array): Buffer {
  const h = header?.length ?? 0;
  const out = Buffer.allocUnsafe(1 + h + payload.length);
  out[0] = tag;
  if (header) out.set(header, 1);
  out.set(payload, 1 + h);
  return out;
}

/** The byte k for which v is exactly float32(k / d), or -1 when there is none. */
function byteOf(v: number, d: number): number {
  const k = Math.round(v * d);
  // `=== v` fails for NaN; the Object.is check keeps -0 out (a byte cannot hold its sign).
  return k >= 0 && k <= 255 && Math.fround(k / d) === v && !Object.is(v, -0) ? k : -1;
}

/**
 * One byte k per value when every value is exactly float32(k / d), else undefined. The output is
 * allocated only once a value beyond the first few fits, since most arrays fail at once.
 */
function asBytes(a: Float32Array, d: number): Uint8Array | undefined {
  for (let i = 0; i < Math.min(a.length, 8); i++) if (byteOf(a[i], d) < 0) return undefined;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const k = byteOf(a[i], d);
    if (k < 0) return undefined;
    out[i] = k;
  }
  return out;
}

/** The one-byte form's header and bytes, when some divisor fits every value. */
function byteForm(a: Float32Array): { header: Buffer; bytes: Uint8Array } | undefined {
  for (const d of DIVISORS) {
    const bytes = asBytes(a, d);
    if (!bytes) continue;
    const header = Buffer.alloc(2);
    header.writeUInt16BE(d);
    return { header, bytes };
  }
  return undefined;
}

/** The smallest lossless blob for the values: the one-byte form (PackBits) when it fits, else raw. */
export function packFloats(a: Float32Array): Buffer {
  const raw = float32Bytes(a);
  if (raw.length < MIN_COMPRESS) return tagged(RAW, raw);
  const form = byteForm(a);
  if (!form) return tagged(RAW, raw);
  const packed = packBits(form.bytes);
  return packed.length + 2 < raw.length ? tagged(PACKED_BYTES, packed, form.header) : tagged(RAW, raw);
}

/** The values of a blob written by packFloats (`raw`: the row's raw scores, for tag 3). */
export function unpackFloats(b: Uint8Array, raw?: Float32Array): Float32Array {
  const payload = b.subarray(1);
  switch (b[0]) {
    case RAW:
      return float32FromBytes(payload);
    case DEFLATE:
      return float32FromBytes(inflateRawSync(payload));
    case BYTES:
    case PACKED_BYTES: {
      const d = (payload[0] << 8) | payload[1];
      const k = b[0] === BYTES ? inflateRawSync(payload.subarray(2)) : unpackBits(payload.subarray(2));
      return Float32Array.from(k, (v) => v / d);
    }
    case SAME_AS_RAW:
      if (!raw) throw new Error('served scores refer to raw scores the row does not have');
      return Float32Array.from(raw);
    default:
      throw new Error(`unknown float blob tag ${b[0]}`);
  }
}

const sameFloats = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && float32Bytes(a).equals(float32Bytes(b));

const HEX = /^(?:[0-9a-f]{2})+$/;

export function packHash(h: string): Buffer {
  return HEX.test(h) ? tagged(0, Buffer.from(h, 'hex')) : tagged(1, Buffer.from(h, 'utf8'));
}

export function unpackHash(b: Uint8Array): string {
  const payload = Buffer.from(b.buffer, b.byteOffset + 1, b.byteLength - 1);
  return b[0] === 0 ? payload.toString('hex') : payload.toString('utf8');
}

/** The served scores' blob when they equal the raw scores. */
const SAME = Buffer.of(SAME_AS_RAW);

export function rowColumns(rows: readonly AuditRow[]): RowColumns[] {
  return rows.map((r, pos) => {
    const rawScores = r.raw?.scores;
    const servedScores = r.served?.scores;
    return {
      pos,
      idx: r.index,
      input_hash: packHash(r.inputHash),
      input: r.input ? packFloats(r.input) : null,
      raw_label: r.raw ? r.raw.label : null,
      raw_scores: rawScores ? packFloats(rawScores) : null,
      served_label: r.served ? r.served.label : null,
      served_scores: servedScores
        ? rawScores && sameFloats(rawScores, servedScores)
          ? SAME
          : packFloats(servedScores)
        : null,
    };
  });
}

export function recordColumns(
  r: AuditRecord,
  at: { readonly log: string; readonly seq: number; readonly prevHash: string; readonly hash: string },
): RecordColumns {
  return {
    log: at.log,
    seq: at.seq,
    at: r.at,
    request_id: r.requestId,
    client_id: r.clientId,
    tier: r.tier ?? null,
    ip: r.ip,
    route: r.route,
    model: r.model ?? null,
    status: r.status,
    outcome: r.outcome,
    latency_ms: r.latencyMs,
    flags: r.flags.length > 0 ? JSON.stringify(r.flags) : null,
    prev_hash: Buffer.from(at.prevHash, 'hex'),
    hash: Buffer.from(at.hash, 'hex'),
  };
}

function output(label: number | null, scores: Float32Array | undefined): AuditOutput | undefined {
  if (label === null) return undefined;
  return scores ? { label, scores } : { label };
}

export function rowFromColumns(c: RowColumns): AuditRow {
  const rawScores = c.raw_scores ? unpackFloats(c.raw_scores) : undefined;
  const raw = output(c.raw_label, rawScores);
  const served = output(c.served_label, c.served_scores ? unpackFloats(c.served_scores, rawScores) : undefined);
  return {
    index: c.idx,
    inputHash: unpackHash(c.input_hash),
    ...(c.input ? { input: unpackFloats(c.input) } : {}),
    ...(raw ? { raw } : {}),
    ...(served ? { served } : {}),
  };
}

/** Columns as read back (numbers may come as strings or bigints, e.g. PostgreSQL int8) -> the record. */
export function recordFromColumns(c: RecordColumns, rows: readonly RowColumns[]): StoredAuditRecord {
  return {
    log: c.log,
    seq: Number(c.seq),
    prevHash: Buffer.from(c.prev_hash).toString('hex'),
    hash: Buffer.from(c.hash).toString('hex'),
    at: Number(c.at),
    requestId: c.request_id,
    clientId: c.client_id,
    ...(c.tier !== null ? { tier: c.tier } : {}),
    ip: c.ip,
    route: c.route,
    ...(c.model !== null ? { model: c.model } : {}),
    status: Number(c.status),
    outcome: c.outcome,
    latencyMs: Number(c.latency_ms),
    flags: c.flags !== null ? (JSON.parse(c.flags) as string[]) : [],
    rows: rows.map(rowFromColumns),
  };
}
