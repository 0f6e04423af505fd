/**
 * @file The keyed digest of one input row, shared by every stage whose randomness is keyed by a
 * secret and the input (gaussian-noise, watermark): HMAC-SHA-256(key, the row's float32 values as
 * little-endian bytes, -0 read as +0). Identical inputs give identical digests on every platform
 * (so repeating a query gets the same answer), and without the key the digest is unpredictable.
 */
import { createHmac } from 'node:crypto';

/** The canonical bytes of a row: little-endian float32, +0 for -0 (the model answers both alike). */
export function rowBytes(values: Float32Array): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  for (let j = 0; j < values.length; j++) bytes.writeFloatLE(values[j] === 0 ? 0 : values[j], j * 4);
  return bytes;
}

/** HMAC-SHA-256(key, rowBytes(values)): 32 bytes. */
export function rowHmac(key: Buffer, values: Float32Array): Buffer {
  return createHmac('sha256', key).update(rowBytes(values)).digest();
}
