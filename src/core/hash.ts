/** @file Stable content hashes of input rows: the cache and transcript key (identical input = same key). */
import { createHash } from 'node:crypto';

export function hashRow(values: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex')
    .slice(0, 32);
}
