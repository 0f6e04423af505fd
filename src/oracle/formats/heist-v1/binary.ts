/**
 * @file The heist-v1 binary predict body, server side: POST /v1/models/{name}/predict with
 * `content-type: application/octet-stream` and, as the body, n rows of inputSize little-endian
 * float32 values, row-major (n * inputSize * 4 bytes; no header). The optional request header
 * `x-heist-output: label | probabilities` plays the JSON body's "output" field. The answer is the
 * JSON one. Checks match the JSON path (server.ts): same codes, same limits. NaN is a missing
 * feature for models that accept them (the JSON body's null) and HEIST_ERR_NOT_FINITE otherwise;
 * an infinity always is. Decoding is a zero-copy view when the bytes are 4-byte aligned.
 */
import { HeistError } from '../../../core/errors.js';
import type { OutputKind, RequestedOutput } from '../../../core/prediction.js';
import type { DecodeTarget, PredictRequest } from './server.js';

/** The request header that asks for labels only (value "label") or the model's scores ("probabilities"). */
export const OUTPUT_HEADER = 'x-heist-output';
export const BINARY_CONTENT_TYPE = 'application/octet-stream';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Mirrors the JSON body's "output" field (server.ts decodeOutput). */
function decodeOutputHeader(v: string | readonly string[] | undefined, served: OutputKind): RequestedOutput {
  if (v === undefined || v === '') return 'model';
  if (v === 'label') return 'label';
  if (v === 'probabilities') {
    if (served === 'label')
      throw new HeistError(
        'HEIST_ERR_BAD_BODY',
        `this model serves labels only; ${OUTPUT_HEADER}: probabilities is not available`,
      );
    return 'model';
  }
  throw new HeistError('HEIST_ERR_BAD_BODY', `${OUTPUT_HEADER} must be "label" or "probabilities"`);
}

/** The body's floats: a view when aligned on a little-endian host, else a copy. */
function floats(body: Uint8Array, count: number): Float32Array {
  if (LITTLE_ENDIAN) {
    if (body.byteOffset % 4 === 0) return new Float32Array(body.buffer, body.byteOffset, count);
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(body.subarray(0, count * 4));
    return out;
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Validates a binary predict body (a Buffer from the octet-stream parser); throws HeistError with a 4xx code. */
export function decodeBinaryPredictRequest(
  body: Uint8Array,
  target: DecodeTarget,
  outputHeader?: string | readonly string[],
): PredictRequest {
  const requested = decodeOutputHeader(outputHeader, target.servedOutput);
  const d = target.inputSize;
  const rowBytes = d * 4;
  if (body.byteLength === 0) throw new HeistError('HEIST_ERR_EMPTY_BATCH', 'the body has no rows');
  if (body.byteLength % rowBytes !== 0)
    throw new HeistError(
      'HEIST_ERR_SHAPE',
      `the body has ${body.byteLength} bytes, not a multiple of ${rowBytes} (rows of ${d} float32 values, flattened [${target.info.inputShape.join(', ')}])`,
    );
  const n = body.byteLength / rowBytes;
  if (n > target.maxBatch)
    throw new HeistError(
      'HEIST_ERR_BATCH_TOO_LARGE',
      `the batch has ${n} rows; this server allows at most ${target.maxBatch}`,
    );
  const data = floats(body, n * d);
  const missingOk = target.acceptsMissing === true;
  for (let k = 0; k < data.length; k++) {
    const v = data[k];
    // v - v is 0 for finite values and NaN for NaN and both infinities.
    if (v - v === 0 || (missingOk && Number.isNaN(v))) continue;
    const i = Math.floor(k / d);
    throw new HeistError(
      'HEIST_ERR_NOT_FINITE',
      `row ${i} value ${k - i * d} is ${Number.isNaN(v) ? 'NaN' : String(v)}`,
    );
  }
  return { x: { data, shape: [n, ...target.info.inputShape] }, requested };
}
