/**
 * @file The bytes of transcript lines (transcript.ts), written straight into one growing buffer:
 * every float32 as the shortest text that reads back as the same float32, through a direct-mapped
 * cache of texts keyed by the float's bits. Inputs repeat their values (an 8-bit image has at most
 * 256), so most values cost one table probe and a copy of a few bytes. Building the lines as
 * strings (a string per value from a Map of texts already made, joined per row, the lines encoded
 * at the end) took 3.2-4.2x as long in three runs: 123-159 against 30-47 ms for the 2,000-row
 * mnist-cnn evaluation set with its probabilities (`npm run bench -- transcript`), which was a
 * third of the time to buy that set from a gateway on the same machine.
 */

import { HeistError } from '../core/errors.js';

/** Cache slots (a power of two) and the bytes each slot holds. */
const SLOTS = 1 << 16;
const SLOT_BYTES = 24;

/** Shortest text that reads back as the same float32 (-0 kept; NaN, a missing feature, as null). */
export function formatF32(v: number): string {
  if (Object.is(v, -0)) return '-0';
  if (Number.isNaN(v)) return 'null';
  const s = String(v);
  return s.length <= 10 ? s : String(Number(v.toPrecision(9)));
}

/** One per open transcript: its cache (about 1.8 MB) lives as long as the transcript. */
export class TranscriptEncoder {
  private buf = new Uint8Array(1 << 16);
  private at = 0;
  /** Slot i holds the text of the float32 whose bits are keys[i] (valid where lens[i] > 0). */
  private readonly keys = new Uint32Array(SLOTS);
  private readonly lens = new Uint8Array(SLOTS);
  private readonly texts = new Uint8Array(SLOTS * SLOT_BYTES);

  /** The bytes written since the last `take`: a view, valid until the next write. */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.at);
    this.at = 0;
    return out;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
  }

  /** ASCII text (JSON keys, hex hashes, integers). */
  ascii(s: string): void {
    this.room(s.length);
    const { buf } = this;
    let at = this.at;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /** The values as a JSON array of float32 texts. */
  floats(values: Float32Array): void {
    // '[', ']' and at most SLOT_BYTES + 1 per value with its comma: formatF32 never writes more
    // than 22 characters (-123456789000000000000), so the buffer never grows inside the loop.
    this.room(values.length * (SLOT_BYTES + 1) + 2);
    const { buf, keys, lens, texts } = this;
    const allBits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    let at = this.at;
    buf[at++] = 0x5b; // [
    for (let i = 0; i < values.length; i++) {
      if (i > 0) buf[at++] = 0x2c; // ,
      const bits = allBits[i];
      // Fibonacci hashing of the bits into the table; a miss formats the value and takes the slot.
      const slot = Math.imul(bits, 0x9e3779b1) >>> 16;
      const base = slot * SLOT_BYTES;
      let len = lens[slot];
      if (len === 0 || keys[slot] !== bits) {
        const s = formatF32(values[i]);
        // Never true (the test of formatF32 bounds it at 22); a cut text would corrupt the line.
        if (s.length > SLOT_BYTES)
          throw new HeistError('HEIST_ERR_INTERNAL', `float text "${s}" is longer than ${SLOT_BYTES} bytes`);
        len = s.length;
        for (let j = 0; j < len; j++) texts[base + j] = s.charCodeAt(j);
        keys[slot] = bits;
        lens[slot] = len;
      }
      for (let j = 0; j < len; j++) buf[at++] = texts[base + j];
    }
    buf[at++] = 0x5d; // ]
    this.at = at;
  }
}
