/**
 * @file The heist-v1 wire format, server side (the gateway's half; client.ts is the attacker's). Request: {"inputs": number[][], "output"?: "label" |
 * "probabilities"}; no other fields (unknown fields are rejected, 400 HEIST_ERR_BAD_BODY, so typos
 * like "input" never pass silently). Response: {"model", "predictions": [{"label", "probabilities"?}]}
 * ("logits" instead of "probabilities" for a logits model). Decoding is one pass into one Float32Array.
 * Tree models (DecodeTarget.acceptsMissing) also take null for a missing feature and add "leaf" (the
 * answering node's id) to each prediction; other models' requests and answers are unchanged.
 */
import { HeistError } from '../../../core/errors.js';
import type { ModelInfo, OutputKind, Prediction, RequestedOutput } from '../../../core/prediction.js';
import type { Tensor } from '../../../core/tensor.js';
import type { ModelDescription, PredictResponse, WirePrediction } from './schema.js';

export type { ModelDescription, PredictResponse, WirePrediction } from './schema.js';

export interface PredictRequest {
  readonly x: Tensor;
  readonly requested: RequestedOutput;
}

/** What decode needs to know about a served model (computed once at startup). */
export interface DecodeTarget {
  readonly info: ModelInfo;
  readonly inputSize: number;
  readonly servedOutput: OutputKind;
  readonly maxBatch: number;
  /**
   * Tree models: an input value may be null (a missing feature, decoded as NaN). Evaluated BigML
   * style: the prediction stops at the first node that tests a missing feature and answers that
   * node's majority label and id (the incomplete queries of Tramèr et al. 2016, §4.2).
   */
  readonly acceptsMissing?: boolean;
}

const bad = (message: string): HeistError => new HeistError('HEIST_ERR_BAD_BODY', message);

function decodeOutput(v: unknown, served: OutputKind): RequestedOutput {
  if (v === undefined || v === 'label') return v === 'label' ? 'label' : 'model';
  if (v === 'probabilities') {
    if (served === 'label') throw bad('this model serves labels only; "output": "probabilities" is not available');
    return 'model';
  }
  throw bad('"output" must be "label" or "probabilities"');
}

/** Validates a parsed JSON body; throws HeistError with a 4xx code on any bad input. */
export function decodePredictRequest(body: unknown, target: DecodeTarget): PredictRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('the body must be a JSON object like {"inputs": [[...], ...]}');
  }
  const obj = body as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'inputs' && key !== 'output') throw bad(`unknown field "${key.slice(0, 40)}"; allowed: inputs, output`);
  }
  const inputs = obj.inputs;
  if (inputs === undefined) throw bad('missing field "inputs"');
  if (!Array.isArray(inputs)) throw bad('"inputs" must be an array of rows');
  const requested = decodeOutput(obj.output, target.servedOutput);
  const n = inputs.length;
  if (n === 0) throw new HeistError('HEIST_ERR_EMPTY_BATCH', '"inputs" has no rows');
  if (n > target.maxBatch) {
    throw new HeistError(
      'HEIST_ERR_BATCH_TOO_LARGE',
      `the batch has ${n} rows; this server allows at most ${target.maxBatch}`,
    );
  }
  const d = target.inputSize;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const row: unknown = inputs[i];
    if (!Array.isArray(row))
      throw new HeistError(
        'HEIST_ERR_SHAPE',
        `inputs[${i}] is not an array; each row must be an array of ${d} numbers`,
      );
    if (row.length !== d)
      throw new HeistError(
        'HEIST_ERR_SHAPE',
        `inputs[${i}] has ${row.length} values; rows must have ${d} (flattened [${target.info.inputShape.join(', ')}])`,
      );
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v: unknown = row[j];
      if (typeof v !== 'number') {
        if (v === null && target.acceptsMissing) {
          data[o + j] = NaN;
          continue;
        }
        if (Array.isArray(v))
          throw new HeistError('HEIST_ERR_SHAPE', `inputs[${i}][${j}] is an array; rows must be flat`);
        throw new HeistError(
          'HEIST_ERR_NOT_FINITE',
          `inputs[${i}][${j}] is ${v === null ? 'null' : typeof v}, not a number`,
        );
      }
      data[o + j] = v;
      // Read back: catches Infinity (e.g. 1e999) and finite doubles that overflow float32.
      const f = data[o + j];
      if (f - f !== 0) throw new HeistError('HEIST_ERR_NOT_FINITE', `inputs[${i}][${j}] is not finite (as float32)`);
    }
  }
  return { x: { data, shape: [n, ...target.info.inputShape] }, requested };
}

function toNumbers(a: Float32Array): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

export function encodePredictResponse(model: string, p: Prediction): PredictResponse {
  const n = p.labels.length;
  const predictions = new Array<WirePrediction>(n);
  const scores = p.kind === 'label' ? undefined : p.scores;
  const key = p.kind === 'logits' ? 'logits' : 'probabilities';
  const k = scores ? scores.data.length / n : 0;
  for (let i = 0; i < n; i++) {
    const w: WirePrediction = { label: p.labels[i] };
    if (scores) w[key] = toNumbers(scores.data.subarray(i * k, (i + 1) * k));
    if (p.leafIds) w.leaf = p.leafIds[i];
    predictions[i] = w;
  }
  return { model, predictions };
}

/** A number as JSON.stringify writes it (non-finite -> null). */
const num = (v: number): string => (Number.isFinite(v) ? String(v) : 'null');

/**
 * JSON.stringify(encodePredictResponse(model, p)), byte for byte, written straight from the typed
 * arrays: no per-row objects or number[] copies, and fastify skips its own serialization.
 */
export function serializePredictResponse(model: string, p: Prediction): string {
  const n = p.labels.length;
  const scores = p.kind === 'label' ? undefined : p.scores?.data;
  const key = p.kind === 'logits' ? ',"logits":[' : ',"probabilities":[';
  const k = scores ? scores.length / n : 0;
  let s = `{"model":${JSON.stringify(model)},"predictions":[`;
  for (let i = 0; i < n; i++) {
    s += `${i === 0 ? '' : ','}{"label":${num(p.labels[i])}`;
    if (scores) {
      s += key;
      const o = i * k;
      for (let j = 0; j < k; j++) s += j === 0 ? num(scores[o]) : `,${num(scores[o + j])}`;
      s += ']';
    }
    const leaf = p.leafIds?.[i];
    if (leaf !== undefined) s += `,"leaf":${JSON.stringify(leaf)}`;
    s += '}';
  }
  return `${s}]}`;
}

export function describeModel(name: string, target: DecodeTarget): ModelDescription {
  const { info } = target;
  const d: ModelDescription = {
    name,
    inputShape: [...info.inputShape],
    inputSize: target.inputSize,
    classes: info.classes,
    output: target.servedOutput,
    domain: { min: info.domain.min, max: info.domain.max },
    maxBatch: target.maxBatch,
  };
  if (info.classNames) d.classNames = [...info.classNames];
  if (target.acceptsMissing) d.missingValues = 'stop-at-node';
  return d;
}
