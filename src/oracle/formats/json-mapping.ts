/**
 * @file json-mapping: any JSON prediction API, described by a small mapping document
 * (`--format acme.mapping.yaml`, format `heist.mapping/v1`) instead of code:
 *   url        the predict endpoint (default: the --target URL); method POST or PUT
 *   headers    sent with every request; `${NAME}` is replaced by the environment variable NAME, so
 *              a key never sits in the file, and the resolved values never reach a run record
 *   request    body: a JSON template in which the string "$rows" stands for the batch (a list of
 *              rows, flat or nested to the input shape)
 *   response   items: the path to the list of per-row answers; then, within an item, label,
 *              probabilities, scores (logits) or topk: {path, label, score}; paths are dot
 *              separated keys and [i] indexes, "$" is the item itself
 *   batch, rate ("20/s", "1200 rows/min"), pricePer1k: what the API publishes; the client keeps to them
 *   model      name, inputShape, classes, domain, classNames: what the API cannot say about itself
 * The document is validated when the format is built; errors name the bad key.
 */
import { z } from 'zod';
import { HeistError } from '../../core/errors.js';
import { type ModelInfo, type OutputKind, type Prediction, inputSize } from '../../core/prediction.js';
import { parseRate } from '../../core/rate.js';
import { type Tensor, argmaxRows, rowCount } from '../../core/tensor.js';
import { flattenInto, malformed, nest } from './hints.js';
import type { RemoteModelInfo, Target, WireError, WireFormat, WireFormatEntry } from './types.js';

const NAME = 'json-mapping';
const PATH = /^(\$|(\$\.)?[A-Za-z_][\w-]*(\[\d+\])*(\.[A-Za-z_][\w-]*(\[\d+\])*)*)$/;
const path = z.string().regex(PATH, 'a path is dot-separated keys with [i] indexes, or $');

export const mappingSchema = z
  .object({
    format: z.literal('heist.mapping/v1'),
    url: z.string().url().optional(),
    method: z.enum(['POST', 'PUT']).default('POST'),
    headers: z.record(z.string(), z.string()).default({}),
    request: z.object({ body: z.unknown(), rows: z.enum(['flat', 'nested']).default('flat') }).strict(),
    response: z
      .object({
        items: path,
        label: path.optional(),
        probabilities: path.optional(),
        scores: path.optional(),
        topk: z.object({ path, label: path, score: path }).strict().optional(),
      })
      .strict()
      .refine(
        (r) => [r.label, r.probabilities, r.scores, r.topk].some((v) => v !== undefined),
        'give label, probabilities, scores or topk',
      ),
    batch: z.number().int().positive().optional(),
    rate: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        if (v === undefined) return;
        try {
          parseRate(v);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      }),
    pricePer1k: z.number().nonnegative().optional(),
    model: z
      .object({
        name: z.string().min(1),
        inputShape: z.array(z.number().int().positive()).min(1),
        classes: z.number().int().min(2),
        domain: z
          .object({ min: z.number(), max: z.number() })
          .strict()
          .refine((d) => d.min < d.max, 'min must be below max'),
        classNames: z.array(z.string()).optional(),
      })
      .strict()
      .refine(
        (m) => m.classNames === undefined || m.classNames.length === m.classes,
        'classNames must list every class',
      ),
  })
  .strict();
export type Mapping = z.output<typeof mappingSchema>;

/** Reads a value at a path ("a.b[2].c"; "$" = the value itself). */
export function at(value: unknown, p: string): unknown {
  if (p === '$') return value;
  let v = value;
  for (const part of p.replace(/^\$\./, '').split('.')) {
    const m = /^([^[]+)((?:\[\d+\])*)$/.exec(part)!;
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[m[1]] : undefined;
    for (const i of m[2].matchAll(/\[(\d+)\]/g)) v = Array.isArray(v) ? v[Number(i[1])] : undefined;
  }
  return v;
}

/** Writes value at a path of plain keys (the server half's writer; paths with [i] are read-only). */
function setAt(target: Record<string, unknown>, p: string, value: unknown): Record<string, unknown> {
  const keys = p.replace(/^\$\./, '').split('.');
  if (keys.some((key) => key.includes('[')))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `cannot write at ${p}: indexed paths are read-only`);
  let cur = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = value;
  return target;
}

/** The template with every "$rows" string replaced by the batch. */
function fill(template: unknown, rows: unknown): unknown {
  if (template === '$rows') return rows;
  if (Array.isArray(template)) return template.map((t) => fill(t, rows));
  if (typeof template === 'object' && template !== null) {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fill(v, rows)]));
  }
  return template;
}

/** "${NAME}" -> process.env.NAME; a missing variable is named, its value never printed. */
function resolveHeaders(headers: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [
      k,
      v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
        const value = env[name];
        if (value === undefined)
          throw new HeistError(
            'HEIST_ERR_BAD_CONFIG',
            `mapping header "${k}" refers to \${${name}}, which is not set in the environment`,
          );
        return value;
      }),
    ]),
  );
}

function jsonMapping(m: Mapping): WireFormat {
  const headers = resolveHeaders(m.headers, process.env);
  const r = m.response;
  const output: OutputKind = r.probabilities ? 'probs' : r.scores ? 'logits' : r.topk ? 'topk' : 'label';
  const info: RemoteModelInfo = { ...m.model, output, ...(m.batch ? { maxBatch: m.batch } : {}) };

  const classOf = (v: unknown, i: number): number => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < info.classes) return v;
    const byName = typeof v === 'string' ? (info.classNames?.indexOf(v) ?? -1) : -1;
    if (byName >= 0) return byName;
    if (typeof v === 'string' && /^\d+$/.test(v) && Number(v) < info.classes) return Number(v);
    throw malformed(NAME, 'predict', [`row ${i}: ${JSON.stringify(v)?.slice(0, 40)} is not a class`]);
  };

  return {
    name: NAME,
    capabilities: { outputs: [output], leafIds: false, info: 'static' },
    predictMethod: m.method,
    requestHeaders: () => headers,
    limits: { maxBatch: m.batch, rate: m.rate ? parseRate(m.rate) : undefined, pricePer1k: m.pricePer1k },

    parseTarget(url: string): Target {
      try {
        new URL(m.url ?? url);
      } catch (cause) {
        throw new HeistError('HEIST_ERR_BAD_CONFIG', `not a URL: ${m.url ?? url}`, { cause });
      }
      return { base: m.url ?? url, model: m.model.name };
    },
    infoUrl: () => undefined,
    decodeInfo: () => info,
    predictUrl: (t) => t.base,

    encodePredict(x: Tensor, mi: ModelInfo): string {
      const n = rowCount(x);
      const d = inputSize(mi);
      if (x.data.length !== n * d) throw new HeistError('HEIST_ERR_SHAPE', `rows do not hold ${d} values`);
      if (!x.data.every(Number.isFinite)) throw new HeistError('HEIST_ERR_NOT_FINITE', 'a NaN or infinite input value');
      const rows = Array.from({ length: n }, (_, i) =>
        m.request.rows === 'nested'
          ? nest(x.data, mi.inputShape, i * d)
          : Array.from(x.data.subarray(i * d, (i + 1) * d)),
      );
      return JSON.stringify(fill(m.request.body, rows));
    },

    decodePredict(body: unknown, rows: number, mi: ModelInfo): Prediction {
      const items = at(body, r.items);
      if (!Array.isArray(items) || items.length !== rows)
        throw malformed(NAME, 'predict', [`${r.items} must be a list of ${rows} answers`]);
      const k = mi.classes;
      if (output === 'label')
        return { kind: 'label', labels: Int32Array.from(items, (it, i) => classOf(at(it, r.label!), i)) };
      const data = new Float32Array(rows * k);
      items.forEach((it, i) => {
        if (r.topk) {
          const list = at(it, r.topk.path);
          if (!Array.isArray(list) || list.length === 0)
            throw malformed(NAME, 'predict', [`row ${i}: ${r.topk.path} is not a list`]);
          for (const e of list) {
            const score = at(e, r.topk.score);
            if (typeof score !== 'number' || !Number.isFinite(score))
              throw malformed(NAME, 'predict', [`row ${i}: a top-k score is not a number`]);
            data[i * k + classOf(at(e, r.topk.label), i)] = score;
          }
          return;
        }
        const flat: number[] = [];
        if (!flattenInto(at(it, (r.probabilities ?? r.scores)!), flat) || flat.length !== k)
          throw malformed(NAME, 'predict', [`row ${i}: expected ${k} finite scores`]);
        data.set(flat, i * k);
      });
      const scores = { data, shape: [rows, k] };
      const labels = r.label ? Int32Array.from(items, (it, i) => classOf(at(it, r.label!), i)) : argmaxRows(scores);
      return { kind: output, labels, scores };
    },

    decodeError(body: unknown): WireError | undefined {
      if (typeof body !== 'object' || body === null) return undefined;
      const e = (body as Record<string, unknown>).error ?? (body as Record<string, unknown>).message;
      if (typeof e === 'string') return { message: e };
      if (typeof e === 'object' && e !== null) {
        const o = e as Record<string, unknown>;
        return {
          code: typeof o.code === 'string' ? o.code : undefined,
          message: typeof o.message === 'string' ? o.message : undefined,
        };
      }
      return undefined;
    },

    // The server half: what an API described by this mapping answers (for the conformance suite and tests).
    encodeAnswer(p: Prediction, mi: ModelInfo): string {
      const k = mi.classes;
      const item = (i: number): unknown => {
        const o: Record<string, unknown> = {};
        if (r.label) setAt(o, r.label, p.labels[i]);
        const row = p.scores ? Array.from(p.scores.data.subarray(i * k, (i + 1) * k)) : [];
        if (r.probabilities || r.scores) setAt(o, (r.probabilities ?? r.scores)!, row);
        if (r.topk) {
          const { label, score } = r.topk;
          const top = row.flatMap((v, c) => (v === 0 ? [] : [setAt(setAt({}, label, c), score, v)]));
          setAt(o, r.topk.path, top);
        }
        return o;
      };
      const items = Array.from({ length: p.labels.length }, (_, i) => item(i));
      return JSON.stringify(r.items === '$' ? items : setAt({}, r.items, items));
    },

    decodeRequest(body: unknown, mi: RemoteModelInfo): Tensor {
      // Find the batch where the template has "$rows".
      const find = (t: unknown, b: unknown): unknown => {
        if (t === '$rows') return b;
        if (typeof t === 'object' && t !== null && typeof b === 'object' && b !== null) {
          for (const [key, v] of Object.entries(t)) {
            const got = find(v, (b as Record<string, unknown>)[key]);
            if (got !== undefined) return got;
          }
        }
        return undefined;
      };
      const rows = find(m.request.body, body);
      if (!Array.isArray(rows)) throw new HeistError('HEIST_ERR_BAD_BODY', 'no batch where the template has "$rows"');
      const flat: number[] = [];
      if (!flattenInto(rows, flat) || flat.length !== rows.length * inputSize(mi))
        throw new HeistError('HEIST_ERR_SHAPE', 'rows of the wrong size');
      return { data: Float32Array.from(flat), shape: [rows.length, ...mi.inputShape] };
    },

    encodeInfo: () => undefined,
  };
}

export const jsonMappingEntry: WireFormatEntry<Mapping> = {
  name: NAME,
  summary:
    'any JSON API, described by a heist.mapping/v1 file (--format FILE.yaml): template, response paths, limits, model',
  options: mappingSchema,
  example: {
    format: 'heist.mapping/v1',
    headers: {},
    request: { body: { data: '$rows' } },
    response: { items: 'results', label: 'class', probabilities: 'scores' },
    model: { name: 'm', inputShape: [3], classes: 4, domain: { min: 0, max: 1 } },
  },
  create: (m) => jsonMapping(m),
};
