/**
 * @file heist-v1, the Heist gateway's own format.
 *   GET  {base}/v1/models                 -> {"models":[{"name",...}]} (or ["name", ...])
 *   GET  {base}/v1/models/{name}          -> {"name","inputShape","inputSize","classes","classNames"?,
 *                                             "output":"probs"|"label","domain":{min,max},"maxBatch"}
 *   POST {base}/v1/models/{name}/predict  {"inputs": (number|null)[][]} (flat rows; null = a missing
 *                                         feature, sent for NaN, accepted by tree models only)
 *                                         -> {"predictions":[{"label":k,"probabilities":[...]?,"leaf":id?}]}
 *                                         ("leaf": the answering tree node's id, Prediction.leafIds)
 *   errors: {"error":{"code","message"}} with a 4xx/5xx status.
 */
import { z } from 'zod';
import { HeistError } from '../../core/errors.js';
import { type ModelInfo, type Prediction, inputSize } from '../../core/prediction.js';
import { type Tensor, rowCount } from '../../core/tensor.js';
import { type RowAnswer, fromRowAnswers } from '../merge.js';
import type { RemoteModelInfo, Target, WireError, WireFormat } from './types.js';

const infoSchema = z.object({
  name: z.string(),
  inputShape: z.array(z.number().int().positive()).min(1),
  inputSize: z.number().int().positive().optional(),
  classes: z.number().int().min(2),
  classNames: z.array(z.string()).optional(),
  output: z.enum(['probs', 'label', 'logits', 'topk']),
  domain: z.object({ min: z.number(), max: z.number() }),
  maxBatch: z.number().int().positive().optional(),
  missingValues: z.literal('stop-at-node').optional(),
});

const predictSchema = z.object({
  predictions: z.array(
    z.object({
      label: z.number().int().nonnegative(),
      probabilities: z.array(z.number()).optional(),
      leaf: z.union([z.string(), z.number()]).optional(),
    }),
  ),
});

const listSchema = z.union([
  z.array(z.string()),
  z.object({ models: z.array(z.union([z.string(), z.object({ name: z.string() })])) }),
]);

const errorSchema = z.object({ error: z.object({ code: z.string().optional(), message: z.string().optional() }) });

function malformed(what: string, issues: unknown): HeistError {
  return new HeistError('HEIST_ERR_UPSTREAM', `the target's ${what} answer does not match heist-v1`, { details: { issues } });
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

export const heistV1: WireFormat = {
  name: 'heist-v1',

  parseTarget(url: string): Target {
    let u: URL;
    try {
      u = new URL(url);
    } catch (cause) {
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `not a URL: ${url}`, { cause });
    }
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
    const r = listSchema.safeParse(body);
    if (!r.success) throw malformed('model list', r.error.issues);
    const items = Array.isArray(r.data) ? r.data : r.data.models;
    return items.map((m) => (typeof m === 'string' ? m : m.name));
  },

  infoUrl: (t) => `${t.base}/v1/models/${encodeURIComponent(t.model)}`,

  decodeInfo(body: unknown): RemoteModelInfo {
    const r = infoSchema.safeParse(body);
    if (!r.success) throw malformed('model info', r.error.issues);
    const d = r.data;
    const size = inputSize(d);
    if (d.inputSize !== undefined && d.inputSize !== size) {
      throw malformed('model info', [`inputSize ${d.inputSize} != product of inputShape ${size}`]);
    }
    if (!(d.domain.min < d.domain.max)) throw malformed('model info', ['domain.min must be below domain.max']);
    if (d.classNames && d.classNames.length !== d.classes) throw malformed('model info', ['classNames length != classes']);
    return {
      name: d.name,
      inputShape: d.inputShape,
      classes: d.classes,
      ...(d.classNames ? { classNames: d.classNames } : {}),
      output: d.output,
      domain: d.domain,
      ...(d.maxBatch !== undefined ? { maxBatch: d.maxBatch } : {}),
      ...(d.missingValues ? { acceptsMissing: true } : {}),
    };
  },

  predictUrl: (t) => `${t.base}/v1/models/${encodeURIComponent(t.model)}/predict`,

  encodePredict(x: Tensor, info: ModelInfo): string {
    const n = rowCount(x);
    const k = inputSize(info);
    if (x.data.length !== n * k) {
      throw new HeistError('HEIST_ERR_SHAPE', `rows have ${n === 0 ? 0 : x.data.length / n} values, the model takes ${k}`);
    }
    const inputs: (number | null)[][] = [];
    for (let i = 0; i < n; i++) {
      const r = Array.from(x.data.subarray(i * k, (i + 1) * k));
      const missingOk = (info as RemoteModelInfo).acceptsMissing === true;
      if (!r.every((v) => Number.isFinite(v) || (missingOk && Number.isNaN(v)))) {
        throw new HeistError('HEIST_ERR_NOT_FINITE', `row ${i} has a NaN or infinite value${missingOk ? '' : ' (this model takes no missing features)'}`);
      }
      // NaN (a missing feature) goes out as null, only to models that declare they answer it.
      inputs.push(r.map((v) => (Number.isNaN(v) ? null : v)));
    }
    return JSON.stringify({ inputs });
  },

  decodePredict(body: unknown, rows: number, info: ModelInfo): Prediction {
    const r = predictSchema.safeParse(body);
    if (!r.success) throw malformed('predict', r.error.issues);
    const preds = r.data.predictions;
    if (preds.length !== rows) throw malformed('predict', [`${preds.length} predictions for ${rows} rows`]);
    const withProbs = preds.filter((p) => p.probabilities !== undefined).length;
    if (withProbs !== 0 && withProbs !== rows) throw malformed('predict', ['some rows have probabilities and some do not']);
    const answers: RowAnswer[] = preds.map((p, i) => {
      if (p.label >= info.classes) throw malformed('predict', [`row ${i}: label ${p.label} >= classes ${info.classes}`]);
      const leaf = p.leaf === undefined ? {} : { leaf: String(p.leaf) };
      if (!p.probabilities) return { label: p.label, ...leaf };
      if (p.probabilities.length !== info.classes || !p.probabilities.every(Number.isFinite)) {
        throw malformed('predict', [`row ${i}: expected ${info.classes} finite probabilities`]);
      }
      return { label: p.label, probs: Float32Array.from(p.probabilities), ...leaf };
    });
    return fromRowAnswers(answers, info.classes, withProbs === 0 ? 'label' : info.output === 'label' ? 'probs' : info.output);
  },

  decodeError(body: unknown): WireError | undefined {
    const r = errorSchema.safeParse(body);
    return r.success ? r.data.error : undefined;
  },
};
