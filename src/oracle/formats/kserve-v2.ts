/**
 * @file kserve-v2: the Open Inference Protocol (KServe v2, also Triton's HTTP API), from its public
 * description (kserve.github.io/website, "Open Inference Protocol (V2 Inference Protocol)").
 *   GET  {base}/v2/models/{name}[/versions/{v}] -> {"name", "versions"?, "platform"?,
 *        "inputs": [{"name", "datatype", "shape"}], "outputs": [...]}; shapes use -1 for the batch
 *   POST {base}/v2/models/{name}[/versions/{v}]/infer
 *        {"inputs": [{"name", "shape": [n, ...], "datatype": "FP32"|"FP64", "data": [...row-major...]}]}
 *        -> {"model_name", "outputs": [{"name", "shape", "datatype", "data"}]}
 *   errors: {"error": "message"}
 * Inputs go out as FP32 (default) or FP64; outputs are read as FP16/FP32/FP64 scores, or as integer
 * class ids (label only). Domain and probabilities-or-logits come from the options (hints.ts); an
 * output named like "logits" is read as logits.
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
  pickOutput,
  type TargetHints,
} from './hints.js';
import type { RemoteModelInfo, Target, WireError, WireFormat, WireFormatEntry } from './types.js';

const NAME = 'kserve-v2';

const tensorMeta = z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number().int()) });
const metadataSchema = z.object({
  name: z.string(),
  inputs: z.array(tensorMeta).min(1),
  outputs: z.array(tensorMeta).min(1),
});
const inferSchema = z.object({
  outputs: z
    .array(
      z.object({
        name: z.string(),
        datatype: z.string(),
        shape: z.array(z.number().int()),
        data: z.array(z.unknown()),
      }),
    )
    .min(1),
});
const errorSchema = z.object({ error: z.string() });
const FLOATS = new Set(['FP16', 'FP32', 'FP64']);
const INTS = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

const options = z
  .object({
    ...hintFields,
    /** The datatype inputs are sent as. */
    datatype: z.enum(['FP32', 'FP64']).default('FP32'),
  })
  .strict();
type Options = z.output<typeof options>;

function kserveV2(o: Options): WireFormat {
  const hints: TargetHints = o;
  let inputName = 'input-0';
  let outputName: string | undefined;

  return {
    name: NAME,
    capabilities: { outputs: ['probs', 'logits', 'topk', 'label'], leafIds: false, info: 'shape' },

    parseTarget(url: string): Target {
      const u = parseUrl(url);
      const m = /^(.*?)\/v2\/models\/([^/]+(?:\/versions\/[^/]+)?)(?:\/infer)?\/?$/.exec(u.pathname);
      if (!m)
        throw new HeistError(
          'HEIST_ERR_BAD_CONFIG',
          `a KServe v2 target looks like http://host:8080/v2/models/NAME, not ${url}`,
        );
      return { base: `${u.origin}${m[1]}`.replace(/\/+$/, ''), model: decodeURIComponent(m[2]) };
    },

    infoUrl: (t) => `${t.base}/v2/models/${t.model}`,

    decodeInfo(body: unknown): RemoteModelInfo {
      const r = metadataSchema.safeParse(body);
      if (!r.success) throw malformed(NAME, 'model metadata', r.error.issues);
      const { inputs, outputs } = r.data;
      if (inputs.length !== 1) throw malformed(NAME, 'model metadata', [`${inputs.length} inputs; Heist feeds one`]);
      inputName = inputs[0].name;
      outputName = pickOutput(outputs.map((t) => t.name));
      const out = outputs.find((t) => t.name === outputName);
      if (!out)
        throw malformed(NAME, 'model metadata', ['several outputs and none named probabilities, scores or logits']);
      return describeFromShapes(
        NAME,
        'model metadata',
        { name: r.data.name, inputDims: inputs[0].shape, outputDims: out.shape, outputName: out.name },
        hints,
      );
    },

    predictUrl: (t) => `${t.base}/v2/models/${t.model}/infer`,

    encodePredict(x: Tensor, info: ModelInfo): string {
      const n = rowCount(x);
      const d = inputSize(info);
      if (x.data.length !== n * d) throw new HeistError('HEIST_ERR_SHAPE', `rows do not hold ${d} values`);
      if (!x.data.every(Number.isFinite)) throw new HeistError('HEIST_ERR_NOT_FINITE', 'a NaN or infinite input value');
      return JSON.stringify({
        inputs: [{ name: inputName, shape: [n, ...info.inputShape], datatype: o.datatype, data: Array.from(x.data) }],
      });
    },

    decodePredict(body: unknown, rows: number, info: ModelInfo): Prediction {
      const r = inferSchema.safeParse(body);
      if (!r.success) throw malformed(NAME, 'infer', r.error.issues);
      const out =
        r.data.outputs.find((t) => t.name === outputName) ??
        (r.data.outputs.length === 1 ? r.data.outputs[0] : undefined);
      if (!out) throw malformed(NAME, 'infer', [`no output "${outputName}"`]);
      const flat: number[] = [];
      if (!flattenInto(out.data, flat)) throw malformed(NAME, 'infer', ['output data that is not finite numbers']);
      if (INTS.has(out.datatype) && flat.length === rows) {
        if (!flat.every((l) => Number.isInteger(l) && l >= 0 && l < info.classes))
          throw malformed(NAME, 'infer', ['a class id outside 0..classes-1']);
        return { kind: 'label', labels: Int32Array.from(flat) };
      }
      if (!FLOATS.has(out.datatype)) throw malformed(NAME, 'infer', [`output datatype ${out.datatype}`]);
      if (flat.length !== rows * info.classes)
        throw malformed(NAME, 'infer', [`${flat.length} scores for ${rows} rows of ${info.classes} classes`]);
      const scores = { data: Float32Array.from(flat), shape: [rows, info.classes] };
      const kind: OutputKind = info.output === 'label' ? 'probs' : info.output;
      return { kind, labels: argmaxRows(scores), scores };
    },

    decodeError(body: unknown): WireError | undefined {
      const r = errorSchema.safeParse(body);
      return r.success ? { message: r.data.error } : undefined;
    },

    encodeAnswer(p: Prediction, info: ModelInfo): string {
      const n = p.labels.length;
      const output =
        p.kind === 'label' || !p.scores
          ? { name: 'label', datatype: 'INT64', shape: [n], data: Array.from(p.labels) }
          : {
              name: p.kind === 'logits' ? 'logits' : 'probabilities',
              datatype: 'FP32',
              shape: [n, info.classes],
              data: Array.from(p.scores.data),
            };
      return JSON.stringify({ model_name: info.name, outputs: [output] });
    },

    decodeRequest(body: unknown, info: RemoteModelInfo): Tensor {
      const inputs = (body as { inputs?: unknown } | null)?.inputs;
      const t =
        Array.isArray(inputs) && inputs.length === 1
          ? (inputs[0] as { shape?: unknown; data?: unknown; datatype?: unknown })
          : undefined;
      if (!t || !Array.isArray(t.shape) || !FLOATS.has(String(t.datatype)))
        throw new HeistError('HEIST_ERR_BAD_BODY', 'the body needs one FP16/FP32/FP64 input tensor');
      const flat: number[] = [];
      const n = Number(t.shape[0]);
      if (!flattenInto(t.data, flat) || flat.length !== n * inputSize(info))
        throw new HeistError('HEIST_ERR_SHAPE', 'the input data does not match its shape');
      return { data: Float32Array.from(flat), shape: [n, ...info.inputShape] };
    },

    encodeInfo(info: RemoteModelInfo): unknown {
      return {
        name: info.name,
        versions: ['1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [-1, ...info.inputShape] }],
        outputs: [
          { name: info.output === 'logits' ? 'logits' : 'probabilities', datatype: 'FP32', shape: [-1, info.classes] },
        ],
      };
    },
  };
}

export const kserveV2Entry: WireFormatEntry<Options> = {
  name: NAME,
  summary:
    'KServe / Open Inference Protocol v2: GET /v2/models/NAME, POST /v2/models/NAME/infer (FP32 or FP64 tensors)',
  options,
  example: {},
  create: (o) => kserveV2(o),
};
