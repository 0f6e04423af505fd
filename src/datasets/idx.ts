/**
 * @file Reader for the IDX format of MNIST-style files (optionally gzip-compressed).
 * Format: magic (0, 0, dtype, ndim), ndim big-endian uint32 dimensions, then the data.
 * @see Y. LeCun et al., "Gradient-based learning applied to document recognition", 1998 (the MNIST page defines IDX).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { HeistError } from '../core/errors.js';

export interface IdxArray {
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

export function parseIdx(bytes: Uint8Array, source = 'buffer'): IdxArray {
  const buf = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw new HeistError('HEIST_ERR_BAD_DATA', `${source}: not an IDX file (bad magic)`);
  }
  if (buf[2] !== 0x08)
    throw new HeistError(
      'HEIST_ERR_BAD_DATA',
      `${source}: only unsigned-byte IDX data is supported (type 0x${buf[2].toString(16)})`,
    );
  const ndim = buf[3];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const offset = 4 + 4 * ndim;
  const size = shape.reduce((a, b) => a * b, 1);
  if (buf.length - offset !== size) {
    throw new HeistError(
      'HEIST_ERR_BAD_DATA',
      `${source}: header says ${size} values but the file holds ${buf.length - offset}`,
    );
  }
  return { shape, data: buf.subarray(offset) };
}

export function readIdx(path: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new HeistError('HEIST_ERR_BAD_DATA', `cannot read ${path}: ${(e as Error).message}`);
  }
  return parseIdx(bytes, path);
}
