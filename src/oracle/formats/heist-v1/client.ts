/**
 * @file heist-v1, the Heist gateway's own format: the client's half (server.ts is the gateway's).
 *   GET  {base}/v1/models                 -> {"models":[{"name",...}]} (or ["name", ...])
 *   GET  {base}/v1/models/{name}          -> {"name","inputShape","inputSize","classes","classNames"?,
 *                                             "output":"probs"|"label","domain":{min,max},"maxBatch"}
 *   POST {base}/v1/models/{name}/predict  {"inputs": (number|null)[][]} (flat rows; null = a missing
 *                                         feature, sent for NaN, accepted by tree models only)
 *                                         -> {"predictions":[{"label":k,"probabilities":[...]?,"leaf":id?}]}
 *                                         ("leaf": the answering tree node's id, Prediction.leafIds)
 *   errors: {"error":{"code","message"}} with a 4xx/5xx status.
 * Binary bodies: predict bodies go out as little-endian float32 rows, content-type
 * application/octet-stream (binary.ts; encodeBinaryPredict below), whenever the model's description
 * says "binaryInputs": true (the Heist gateway does), or always with `--format-option binary=true`;
 * binary=false keeps JSON. Answers stay JSON. Building and parsing 2,000 MNIST rows as JSON took
 * about 0.4 s over loopback; as float32 it is a copy.
 */
import { z } from 'zod';
import { HeistError } from '../../../core/errors.js';
import { type ModelInfo, type Prediction, inputSize } from '../../../core/prediction.js';
import { type Tensor, rowCount } from '../../../core/tensor.js';
import { type RowAnswer, fromRowAnswers } from '../../merge.js';
import type { RemoteModelInfo, Target, WireError, WireFormat } from '../types.js';
import { parseUrl } from '../hints.js';
import { BINARY_CONTENT_TYPE } from './binary.js';
import { errorBodySchema, modelListSchema, predictResponseSchema, remoteDescriptionSchema } from './schema.js';

/** heist-v1's format options. */
export const heistV1Options = z.strictObject({
  /** true: send predict bodies as float32 bytes (cheaper to build and to parse for big batches) even
   * where the model's description does not offer them; false: always JSON. Default: binary where offered. */
  binary: z.boolean().optional(),
});
export type HeistV1Options = z.infer<typeof heistV1Options>;

/**
 * The binary predict body for x: its rows as little-endian float32, row-major. Same checks as
 * encodePredict: row length, and NaN (a missing feature) only for models that declare they answer it.
 */
export function encodeBinaryPredict(
  x: Tensor,
  info: ModelInfo,
): { readonly body: Uint8Array<ArrayBuffer>; readonly contentType: string } {
  const n = rowCount(x);
  const k = inputSize(info);
  if (x.data.length !== n * k)
    throw new HeistError(
      'HEIST_ERR_SHAPE',
      `rows have ${n === 0 ? 0 : x.data.length / n} values, the model takes ${k}`,
    );
  const missingOk = (info as RemoteModelInfo).acceptsMissing === true;
  const body = new Uint8Array(x.data.length * 4);
  const view = new DataView(body.buffer);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    if (!(Number.isFinite(v) || (missingOk && Number.isNaN(v))))
      throw new HeistError(
        'HEIST_ERR_NOT_FINITE',
        `row ${Math.floor(i / k)} has a NaN or infinite value${missingOk ? '' : ' (this model takes no missing features)'}`,
      );
    view.setFloat32(i * 4, v, true);
  }
  return { body, contentType: BINARY_CONTENT_TYPE };
}

function malformed(what: string, issues: unknown): HeistError {
  return new HeistError('HEIST_ERR_UPSTREAM', `the target's ${what} answer does not match heist-v1`, {
    details: { issues },
  });
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** The client half of the format (index.ts adds the server half). */
export const heistV1Client: Omit<WireFormat, 'encodeAnswer' | 'decodeRequest' | 'encodeInfo'> = {
  name: 'heist-v1',
  capabilities: { outputs: ['probs', 'logits', 'topk', 'label'], leafIds: true, info: 'full' },

  parseTarget(url: string): Target {
    const u = parseUrl(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `target must be http(s), got ${u.protocol}`);
    }
    const m = /^(.*?)\/v1\/models(?:\/([^/]+))?(?:\/predict)?\/?$/.exec(u.pathname);
    if (!m) return { base: trimSlash(`${u.origin}${u.pathname}`) };
    const base = trimSlash(`${u.origin}${m[1]}`);
    return m[2] ? { base, model: decodeURIComponent(m[2]) } : { base };
  },

  listUrl: (base) => `${base}/v1/models`,

  decodeList(body: unknown): string[] {
    const r = modelListSchema.safeParse(body);
    if (!r.success) throw malformed('model list', r.error.issues);
    const items = Array.isArray(r.data) ? r.data : r.data.models;
    return items.map((m) => (typeof m === 'string' ? m : m.name));
  },

  infoUrl: (t) => `${t.base}/v1/models/${encodeURIComponent(t.model)}`,

  decodeInfo(body: unknown): RemoteModelInfo {
    const r = remoteDescriptionSchema.safeParse(body);
    if (!r.success) throw malformed('model info', r.error.issues);
    const d = r.data;
    const size = inputSize(d);
    if (d.inputSize !== undefined && d.inputSize !== size) {
      throw malformed('model info', [`inputSize ${d.inputSize} != product of inputShape ${size}`]);
    }
    if (!(d.domain.min < d.domain.max)) throw malformed('model info', ['domain.min must be below domain.max']);
    if (d.classNames && d.classNames.length !== d.classes)
      throw malformed('model info', ['classNames length != classes']);
    return {
      name: d.name,
      inputShape: d.inputShape,
      classes: d.classes,
      ...(d.classNames ? { classNames: d.classNames } : {}),
      output: d.output,
      domain: d.domain,
      ...(d.maxBatch !== undefined ? { maxBatch: d.maxBatch } : {}),
      ...(d.missingValues ? { acceptsMissing: true } : {}),
      ...(d.binaryInputs ? { acceptsBinary: true } : {}),
    };
  },

  predictUrl: (t) => `${t.base}/v1/models/${encodeURIComponent(t.model)}/predict`,

  encodePredict(x: Tensor, info: ModelInfo): string {
    const n = rowCount(x);
    const k = inputSize(info);
    if (x.data.length !== n * k) {
      throw new HeistError(
        'HEIST_ERR_SHAPE',
        `rows have ${n === 0 ? 0 : x.data.length / n} values, the model takes ${k}`,
      );
    }
    const inputs: (number | null)[][] = [];
    for (let i = 0; i < n; i++) {
      const r = Array.from(x.data.subarray(i * k, (i + 1) * k));
      const missingOk = (info as RemoteModelInfo).acceptsMissing === true;
      if (!r.every((v) => Number.isFinite(v) || (missingOk && Number.isNaN(v)))) {
        throw new HeistError(
          'HEIST_ERR_NOT_FINITE',
          `row ${i} has a NaN or infinite value${missingOk ? '' : ' (this model takes no missing features)'}`,
        );
      }
      // NaN (a missing feature) goes out as null, only to models that declare they answer it.
      inputs.push(r.map((v) => (Number.isNaN(v) ? null : v)));
    }
    return JSON.stringify({ inputs });
  },

  decodePredict(body: unknown, rows: number, info: ModelInfo): Prediction {
    const r = predictResponseSchema.safeParse(body);
    if (!r.success) throw malformed('predict', r.error.issues);
    const preds = r.data.predictions;
    if (preds.length !== rows) throw malformed('predict', [`${preds.length} predictions for ${rows} rows`]);
    // A logits model's answers carry "logits" in place of "probabilities" (server.ts).
    const key = preds.some((p) => p.logits !== undefined) ? 'logits' : 'probabilities';
    const withScores = preds.filter((p) => p[key] !== undefined).length;
    if (withScores !== 0 && withScores !== rows) throw malformed('predict', [`some rows have ${key} and some do not`]);
    const answers: RowAnswer[] = preds.map((p, i) => {
      if (p.label >= info.classes)
        throw malformed('predict', [`row ${i}: label ${p.label} >= classes ${info.classes}`]);
      const leaf = p.leaf === undefined ? {} : { leaf: String(p.leaf) };
      const scores = p[key];
      if (!scores) return { label: p.label, ...leaf };
      if (scores.length !== info.classes || !scores.every(Number.isFinite)) {
        throw malformed('predict', [`row ${i}: expected ${info.classes} finite ${key}`]);
      }
      return { label: p.label, probs: Float32Array.from(scores), ...leaf };
    });
    const kind =
      withScores === 0
        ? 'label'
        : key === 'logits'
          ? 'logits'
          : info.output === 'label' || info.output === 'logits'
            ? 'probs'
            : info.output;
    return fromRowAnswers(answers, info.classes, kind);
  },

  decodeError(body: unknown): WireError | undefined {
    const r = errorBodySchema.safeParse(body);
    return r.success ? r.data.error : undefined;
  },
};
