/**
 * @file The durable transcript: a JSONL file of every paid row, and withTranscript, the layer that
 * writes it. Line 1 is a header naming the model; each further line is one paid row:
 *   {"hash","purpose","at","label","x":[...flat input...],"probs":[...]?}
 * Guarantee: the rows of each completed upstream call are written in one write() and fsync'd (unless
 * fsync: false) BEFORE the budget counts them, the cache stores them or any caller sees them. So
 * after a SIGKILL every answer a caller ever received is on disk. Lost are only rows of upstream calls
 * whose answers had not been written yet (at most concurrency x maxCallRows rows, paid upstream but
 * never returned); a resumed run buys those again, once. A torn last line (no final newline) is such
 * a row: it is dropped and cut off the file on resume. Any other unreadable line is HEIST_ERR_RESUME.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HeistError } from '../core/errors.js';
import { hashRow } from '../core/hash.js';
import type { ModelInfo, Prediction } from '../core/prediction.js';
import { type Tensor, row, rowCount } from '../core/tensor.js';
import type { Clock } from '../core/types.js';
import type { Oracle, QueryPurpose } from '../oracle/types.js';
import { queryReporting } from './chunks.js';
import { TranscriptEncoder } from './transcript-encode.js';
import type { LayerQueryOptions } from './types.js';

export interface TranscriptHeader {
  readonly heist: 'transcript';
  readonly v: 1;
  readonly model: string;
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly output: string;
  readonly at: number;
}

export interface TranscriptRow {
  readonly hash: string;
  readonly purpose: QueryPurpose;
  readonly at: number;
  /** The flat input row, exactly as sent (float32). */
  readonly x: Float32Array;
  readonly label: number;
  readonly probs?: Float32Array;
}

export interface TranscriptContents {
  readonly header?: TranscriptHeader;
  readonly rows: TranscriptRow[];
  /** Length of the readable prefix (whole lines). */
  readonly validBytes: number;
  /** Bytes of a torn last line, dropped. */
  readonly tornBytes: number;
}

const purposes: readonly QueryPurpose[] = ['attack', 'eval', 'probe'];

function parseRow(line: string, lineNo: number): TranscriptRow {
  const bad = (why: string): HeistError => new HeistError('HEIST_ERR_RESUME', `transcript line ${lineNo}: ${why}`);
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw bad('not JSON');
  }
  if (typeof o.hash !== 'string' || !purposes.includes(o.purpose as QueryPurpose)) throw bad('no hash or purpose');
  if (!Number.isInteger(o.label) || !Array.isArray(o.x) || (o.probs !== undefined && !Array.isArray(o.probs)))
    throw bad('bad fields');
  const x = Float32Array.from(o.x as (number | null)[], (v) => (v === null ? NaN : v));
  if (hashRow(x) !== o.hash) throw bad('input does not match its hash');
  const probs = o.probs === undefined ? undefined : Float32Array.from(o.probs as number[]);
  return {
    hash: o.hash,
    purpose: o.purpose as QueryPurpose,
    at: Number(o.at),
    x,
    label: o.label as number,
    ...(probs ? { probs } : {}),
  };
}

/** Reads a transcript; tolerates only a torn (unterminated) last line. */
export function readTranscript(path: string): TranscriptContents {
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n').slice(0, -1);
  const tornBytes = Buffer.byteLength(text.slice(end));
  if (lines.length === 0) return { rows: [], validBytes: 0, tornBytes };
  let header: TranscriptHeader;
  try {
    header = JSON.parse(lines[0]) as TranscriptHeader;
  } catch {
    throw new HeistError('HEIST_ERR_RESUME', `${path} does not start with a transcript header`);
  }
  if (header?.heist !== 'transcript' || header.v !== 1)
    throw new HeistError('HEIST_ERR_RESUME', `${path} is not a v1 Heist transcript`);
  const rows = lines.slice(1).map((l, i) => parseRow(l, i + 2));
  return { header, rows, validBytes: Buffer.byteLength(text.slice(0, end)), tornBytes };
}

export interface TranscriptOptions {
  readonly info: ModelInfo;
  readonly resume?: boolean;
  readonly overwrite?: boolean;
  readonly fsync?: boolean;
  readonly clock: Clock;
}

export interface Transcript {
  readonly path: string;
  /** Rows read back on resume (empty otherwise). */
  readonly loaded: readonly TranscriptRow[];
  /** Set once a write failed; every later purchase is refused with it. */
  readonly broken: unknown;
  append(x: Tensor, answer: Prediction, purpose: QueryPurpose): void;
  close(): void;
}

function sameModel(h: TranscriptHeader, info: ModelInfo): boolean {
  return h.model === info.name && h.classes === info.classes && h.inputShape.join(',') === info.inputShape.join(',');
}

export function openTranscript(path: string, opts: TranscriptOptions): Transcript {
  const { info, clock } = opts;
  let loaded: TranscriptRow[] = [];
  let fd: number;
  mkdirSync(dirname(path), { recursive: true });
  const exists = existsSync(path);
  if (exists && !opts.resume && !opts.overwrite) {
    throw new HeistError('HEIST_ERR_RESUME', `${path} already exists: resume the run or overwrite it explicitly`, {
      details: { path },
    });
  }
  const contents = exists && opts.resume ? readTranscript(path) : undefined;
  if (contents?.header) {
    if (!sameModel(contents.header, info)) {
      throw new HeistError(
        'HEIST_ERR_RESUME',
        `${path} was recorded against ${contents.header.model}, not ${info.name}`,
        {
          details: { header: contents.header },
        },
      );
    }
    if (contents.tornBytes > 0) truncateSync(path, contents.validBytes);
    loaded = contents.rows;
    fd = openSync(path, 'a');
  } else {
    fd = openSync(path, 'w');
    const header: TranscriptHeader = {
      heist: 'transcript',
      v: 1,
      model: info.name,
      inputShape: info.inputShape,
      classes: info.classes,
      output: info.output,
      at: clock.now(),
    };
    writeAll(fd, `${JSON.stringify(header)}\n`);
    fsyncSync(fd);
  }
  let broken: unknown;
  let closed = false;
  const encoder = new TranscriptEncoder();
  return {
    path,
    loaded,
    get broken() {
      return broken;
    },
    append(x, answer, purpose) {
      if (closed) throw new HeistError('HEIST_ERR_INTERNAL', `transcript ${path} is closed`);
      const at = clock.now();
      const k = answer.scores ? (answer.scores.shape[1] ?? 0) : 0;
      for (let i = 0; i < rowCount(x); i++) {
        const xi = row(x, i);
        encoder.ascii(`{"hash":"${hashRow(xi)}","purpose":"${purpose}","at":${at},"label":${answer.labels[i]},"x":`);
        encoder.floats(xi);
        if (answer.scores) {
          encoder.ascii(',"probs":');
          encoder.floats(answer.scores.data.subarray(i * k, (i + 1) * k));
        }
        encoder.ascii('}\n');
      }
      const bytes = encoder.take();
      try {
        writeAll(fd, bytes);
        if (opts.fsync !== false) fsyncSync(fd);
      } catch (cause) {
        broken = new HeistError('HEIST_ERR_INTERNAL', `cannot write transcript ${path}`, { cause });
        throw broken;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** The layer: records each completed upstream call before anything above it sees the answer. */
export function withTranscript(inner: Oracle, transcript: Transcript): Oracle {
  return {
    info: inner.info,
    async query(x: Tensor, opts: LayerQueryOptions = {}): Promise<Prediction> {
      if (transcript.broken) throw transcript.broken;
      const purpose = opts.purpose ?? 'attack';
      return queryReporting(inner, x, opts, (_offset, xs, answer) => transcript.append(xs, answer, purpose));
    },
  };
}
