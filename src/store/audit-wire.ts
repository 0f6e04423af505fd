/**
 * @file How audit records cross to the SQLite store's worker thread: columnar, with every float of
 * the records in one Float32Array and every row's shape in one Int32Array. postMessage then clones
 * two buffers and a few strings per append instead of a graph of row objects, each with its own
 * typed arrays (at batch 256 that clone, and the copies made to keep it from dragging whole request
 * buffers along, cost the gateway more than the SQLite insert). Lossless: fromWire gives back the
 * records field for field, bit for bit, with the rows' arrays as views into the one buffer.
 */
import type { AuditOutput, AuditRecord, AuditRow } from './types.js';

/** Per row: index, input length, raw label, raw scores length, served label, served scores length. */
const ROW_INTS = 6;
/** The length of an absent array; an output's length NO_OUTPUT says the output itself is absent. */
const ABSENT = -1;
const NO_OUTPUT = -2;

export interface WireRecords {
  /** The records without their rows. */
  readonly heads: readonly Omit<AuditRecord, 'rows'>[];
  /** Rows per record. */
  readonly rowCounts: Int32Array;
  readonly shapes: Int32Array;
  readonly inputHashes: readonly string[];
  /** Per row, in order: input, raw scores, served scores (those present). */
  readonly floats: Float32Array;
}

const floatCount = (rows: readonly AuditRow[]): number =>
  rows.reduce((n, r) => n + (r.input?.length ?? 0) + (r.raw?.scores?.length ?? 0) + (r.served?.scores?.length ?? 0), 0);

export function toWire(records: readonly AuditRecord[]): WireRecords {
  let rows = 0;
  let floats = 0;
  for (const r of records) {
    rows += r.rows.length;
    floats += floatCount(r.rows);
  }
  const shapes = new Int32Array(rows * ROW_INTS);
  const values = new Float32Array(floats);
  const inputHashes: string[] = [];
  const heads: Omit<AuditRecord, 'rows'>[] = [];
  let s = 0;
  let f = 0;
  const put = (a: Float32Array | undefined): number => {
    if (!a) return ABSENT;
    values.set(a, f);
    f += a.length;
    return a.length;
  };
  const putOutput = (o: AuditOutput | undefined): void => {
    shapes[s++] = o ? o.label : 0;
    shapes[s++] = o ? put(o.scores) : NO_OUTPUT;
  };
  for (const { rows: recordRows, ...head } of records) {
    heads.push(head);
    for (const row of recordRows) {
      inputHashes.push(row.inputHash);
      shapes[s++] = row.index;
      shapes[s++] = put(row.input);
      putOutput(row.raw);
      putOutput(row.served);
    }
  }
  return { heads, rowCounts: Int32Array.from(records, (r) => r.rows.length), shapes, inputHashes, floats: values };
}

export function fromWire(w: WireRecords): AuditRecord[] {
  let s = 0;
  let f = 0;
  let h = 0;
  const take = (): Float32Array | undefined => {
    const n = w.shapes[s++];
    if (n < 0) return undefined;
    f += n;
    return w.floats.subarray(f - n, f);
  };
  const takeOutput = (): AuditOutput | undefined => {
    const label = w.shapes[s++];
    if (w.shapes[s] === NO_OUTPUT) {
      s++;
      return undefined;
    }
    const scores = take();
    return scores ? { label, scores } : { label };
  };
  return w.heads.map((head, k) => {
    const rows: AuditRow[] = new Array(w.rowCounts[k]);
    for (let i = 0; i < rows.length; i++) {
      const index = w.shapes[s++];
      const input = take();
      const raw = takeOutput();
      const served = takeOutput();
      rows[i] = {
        index,
        inputHash: w.inputHashes[h++],
        ...(input ? { input } : {}),
        ...(raw ? { raw } : {}),
        ...(served ? { served } : {}),
      };
    }
    return { ...head, rows };
  });
}
