/**
 * @file tf-serving: TensorFlow Serving's REST API, from its public description
 * (tensorflow.org/tfx/serving/api_rest).
 *   GET  {base}/v1/models/{name}[/versions/{v}]/metadata -> {"model_spec", "metadata": {"signature_def":
 *        {"signature_def": {"serving_default": {"inputs": {...}, "outputs": {...}}}}}}: shapes only
 *   POST {base}/v1/models/{name}[/versions/{v}]:predict  {"instances": [...]} (row format, one nested
 *        row per instance) or {"inputs": [...]} (columnar) -> {"predictions": [...]} or {"outputs": ...}
 *   POST {base}/v1/models/{name}[/versions/{v}]:classify {"examples": [{"<input>": [...]}]}
 *        -> {"results": [[["<class>", score], ...], ...]}
 *   errors: {"error": "message"}
 * The metadata declares no input domain and does not say whether the scores are probabilities: the
 * format's options say so (hints.ts); an output tensor named like "logits" is read as logits. With
 * several outputs, "probabilities", then "scores", then "logits" is used, else the only one.
 */
import { z } from 'zod';
import { HeistError } from '../../core/errors.js';
import { type ModelInfo, type OutputKind, type Prediction, inputSize } from '../../core/prediction.js';
import { type Tensor, argmaxRows, rowCount } from '../../core/tensor.js';
import {
  describeFromShapes,
  flattenInto,
  hintFields,
  malformed,
  parseUrl,
  nest,
  pickOutput,
  type TargetHints,
} from './hints.js';
import type { RemoteModelInfo, Target, WireError, WireFormat, WireFormatEntry } from './types.js';

const NAME = 'tf-serving';

const tensorInfo = z.object({
  dtype: z.string().optional(),
  name: z.string().optional(),
  tensor_shape: z.object({ dim: z.array(z.object({ size: z.union([z.string(), z.number()]) })).optional() }),
});
const signature = z.object({ inputs: z.record(z.string(), tensorInfo), outputs: z.record(z.string(), tensorInfo) });
const metadataSchema = z.object({
  model_spec: z.object({ name: z.string() }).partial().optional(),
  metadata: z.object({ signature_def: z.object({ signature_def: z.record(z.string(), signature) }) }),
});
const errorSchema = z.object({ error: z.string() });

const options = z
  .object({
    ...hintFields,
    /** Row format ("instances", default) or columnar ("inputs") requests to :predict. */
    request: z.enum(['instances', 'inputs']).default('instances'),
    /** :predict (default) or :classify. */
    method: z.enum(['predict', 'classify']).default('predict'),
    signature: z.string().min(1).default('serving_default'),
  })
  .strict();
type Options = z.output<typeof options>;

const dims = (t: z.infer<typeof tensorInfo>): number[] => (t.tensor_shape.dim ?? []).map((d) => Number(d.size));

function scoresPrediction(rows: readonly unknown[], n: number, info: ModelInfo, what: string): Prediction {
  if (rows.length !== n) throw malformed(NAME, what, [`${rows.length} answers for ${n} rows`]);
  if (rows.every((r) => typeof r === 'number' || (Array.isArray(r) && r.length === 1 && typeof r[0] === 'number'))) {
    const ids = rows.map((r) => Number(Array.isArray(r) ? r[0] : r));
    if (!ids.every((l) => Number.isInteger(l) && l >= 0 && l < info.classes)) {
      throw malformed(NAME, what, ['a class id outside 0..classes-1']);
    }
    return { kind: 'label', labels: Int32Array.from(ids) };
  }
  const k = info.classes;
  const data = new Float32Array(n * k);
  rows.forEach((r, i) => {
    const flat: number[] = [];
    if (!flattenInto(r, flat) || flat.length !== k)
      throw malformed(NAME, what, [`row ${i}: expected ${k} finite scores`]);
    data.set(flat, i * k);
  });
  const scores = { data, shape: [n, k] };
  const kind: OutputKind = info.output === 'label' ? 'probs' : info.output;
  return { kind, labels: argmaxRows(scores), scores };
}

function tfServing(o: Options): WireFormat {
  const hints: TargetHints = o;
  let inputName = 'inputs';
  let outputName: string | undefined;
  const verb = o.method === 'classify' ? ':classify' : ':predict';

  const classIndex = (label: string, info: ModelInfo): number => {
    const byName = info.classNames?.indexOf(label) ?? -1;
    if (byName >= 0) return byName;
    const n = Number(label);
    if (Number.isInteger(n) && n >= 0 && n < info.classes) return n;
    throw malformed(NAME, 'classify', [`unknown class "${label.slice(0, 40)}"`]);
  };

  return {
    name: NAME,
    capabilities: { outputs: ['probs', 'logits', 'topk', 'label'], leafIds: false, info: 'shape' },

    parseTarget(url: string): Target {
      const u = parseUrl(url);
      const m = /^(.*?)\/v1\/models\/([^/:]+(?:\/versions\/\d+)?)(?::(?:predict|classify))?(?:\/metadata)?\/?$/.exec(
        u.pathname,
      );
      if (!m)
        throw new HeistError(
          'HEIST_ERR_BAD_CONFIG',
          `a TF Serving target looks like http://host:8501/v1/models/NAME, not ${url}`,
        );
      return { base: `${u.origin}${m[1]}`.replace(/\/+$/, ''), model: decodeURIComponent(m[2]) };
    },

    infoUrl: (t) => `${t.base}/v1/models/${t.model}/metadata`,

    decodeInfo(body: unknown): RemoteModelInfo {
      const r = metadataSchema.safeParse(body);
      if (!r.success) throw malformed(NAME, 'metadata', r.error.issues);
      const sig = r.data.metadata.signature_def.signature_def[o.signature];
      if (!sig) throw malformed(NAME, 'metadata', [`no signature "${o.signature}"`]);
      const inputs = Object.keys(sig.inputs);
      if (inputs.length !== 1) throw malformed(NAME, 'metadata', [`${inputs.length} inputs; Heist feeds one`]);
      inputName = inputs[0];
      outputName = pickOutput(Object.keys(sig.outputs));
      if (!outputName)
        throw malformed(NAME, 'metadata', ['several outputs and none named probabilities, scores or logits']);
      const name = r.data.model_spec?.name ?? 'model';
      return describeFromShapes(
        NAME,
        'metadata',
        { name, inputDims: dims(sig.inputs[inputName]), outputDims: dims(sig.outputs[outputName]), outputName },
        hints,
      );
    },

    predictUrl: (t) => `${t.base}/v1/models/${t.model}${verb}`,

    encodePredict(x: Tensor, info: ModelInfo): string {
      const n = rowCount(x);
      const d = inputSize(info);
      if (x.data.length !== n * d) throw new HeistError('HEIST_ERR_SHAPE', `rows do not hold ${d} values`);
      if (!x.data.every(Number.isFinite)) throw new HeistError('HEIST_ERR_NOT_FINITE', 'a NaN or infinite input value');
      const rows = Array.from({ length: n }, (_, i) => nest(x.data, info.inputShape, i * d));
      if (o.method === 'classify') {
        return JSON.stringify({
          signature_name: o.signature,
          examples: rows.map((_, i) => ({ [inputName]: Array.from(x.data.subarray(i * d, (i + 1) * d)) })),
        });
      }
      return JSON.stringify(
        o.request === 'inputs'
          ? { signature_name: o.signature, inputs: rows }
          : { signature_name: o.signature, instances: rows },
      );
    },

    decodePredict(body: unknown, rows: number, info: ModelInfo): Prediction {
      if (typeof body !== 'object' || body === null) throw malformed(NAME, 'predict', ['not an object']);
      const b = body as Record<string, unknown>;
      if (o.method === 'classify') {
        const results = b.results;
        if (!Array.isArray(results) || results.length !== rows)
          throw malformed(NAME, 'classify', ['"results" must hold one list per row']);
        const k = info.classes;
        const data = new Float32Array(rows * k);
        let complete = true;
        results.forEach((pairs, i) => {
          if (!Array.isArray(pairs)) throw malformed(NAME, 'classify', [`row ${i} is not a list of [class, score]`]);
          const seen = new Set<number>();
          for (const p of pairs) {
            if (!Array.isArray(p) || p.length !== 2 || typeof p[1] !== 'number' || !Number.isFinite(p[1]))
              throw malformed(NAME, 'classify', [`row ${i}: bad [class, score]`]);
            const c = classIndex(String(p[0]), info);
            data[i * k + c] = p[1];
            seen.add(c);
          }
          if (seen.size === 0) throw malformed(NAME, 'classify', [`row ${i} is empty`]);
          if (seen.size < k) complete = false;
        });
        const scores = { data, shape: [rows, k] };
        return {
          kind: complete ? (info.output === 'label' ? 'probs' : info.output) : 'topk',
          labels: argmaxRows(scores),
          scores,
        };
      }
      let answers: unknown = b.predictions ?? b.outputs;
      if (answers === undefined) throw malformed(NAME, 'predict', ['no "predictions" or "outputs"']);
      if (!Array.isArray(answers) && typeof answers === 'object' && answers !== null) {
        // Columnar with named outputs: {"outputs": {"probabilities": [...], ...}}.
        answers = (answers as Record<string, unknown>)[outputName ?? pickOutput(Object.keys(answers)) ?? ''];
      }
      if (!Array.isArray(answers)) throw malformed(NAME, 'predict', ['the answers are not a list']);
      const list = answers.map((a) =>
        typeof a === 'object' && a !== null && !Array.isArray(a)
          ? (a as Record<string, unknown>)[outputName ?? pickOutput(Object.keys(a)) ?? '']
          : a,
      );
      return scoresPrediction(list, rows, info, 'predict');
    },

    decodeError(body: unknown): WireError | undefined {
      const r = errorSchema.safeParse(body);
      return r.success ? { message: r.data.error } : undefined;
    },

    encodeAnswer(p: Prediction, info: ModelInfo): string {
      const n = p.labels.length;
      if (p.kind === 'label' || !p.scores) return JSON.stringify({ predictions: Array.from(p.labels) });
      const k = info.classes;
      return JSON.stringify({
        predictions: Array.from({ length: n }, (_, i) => Array.from(p.scores!.data.subarray(i * k, (i + 1) * k))),
      });
    },

    decodeRequest(body: unknown, info: RemoteModelInfo): Tensor {
      const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const rows = b.instances ?? b.inputs;
      if (!Array.isArray(rows)) throw new HeistError('HEIST_ERR_BAD_BODY', 'the body needs "instances" or "inputs"');
      const d = inputSize(info);
      const flat: number[] = [];
      for (const r of rows) {
        const before = flat.length;
        if (!flattenInto(r, flat) || flat.length - before !== d)
          throw new HeistError('HEIST_ERR_SHAPE', `each instance must hold ${d} finite numbers`);
      }
      return { data: Float32Array.from(flat), shape: [rows.length, ...info.inputShape] };
    },

    encodeInfo(info: RemoteModelInfo): unknown {
      const out = info.output === 'logits' ? 'logits' : 'probabilities';
      const shape = (s: readonly number[]) => ({ dim: s.map((size) => ({ size: String(size) })) });
      return {
        model_spec: { name: info.name, version: '1' },
        metadata: {
          signature_def: {
            signature_def: {
              [o.signature]: {
                inputs: {
                  inputs: { dtype: 'DT_FLOAT', name: 'inputs:0', tensor_shape: shape([-1, ...info.inputShape]) },
                },
                outputs: { [out]: { dtype: 'DT_FLOAT', name: `${out}:0`, tensor_shape: shape([-1, info.classes]) } },
                method_name: 'tensorflow/serving/predict',
              },
            },
          },
        },
      };
    },
  };
}

export const tfServingEntry: WireFormatEntry<Options> = {
  name: NAME,
  summary: 'TensorFlow Serving REST: GET /v1/models/NAME/metadata, POST :predict (instances or inputs) or :classify',
  options,
  example: {},
  create: (o) => tfServing(o),
};
