/**
 * @file Any single-input, single-2D-output ONNX classifier as a Predictor: files written by Heist
 * (onnx-writer.ts, with heist.* metadata) and foreign ones (e.g. PyTorch exports: NCHW input, raw
 * logits, no metadata). Facts come from, in order: overrides, heist.* metadata_props, the graph.
 * The graph output is read by a deterministic rule (see graphOutputKind) and turned into
 * probabilities. The model is probed with one all-zero batch at load, so broken files fail early.
 */
import { basename } from 'node:path';
import { type OnnxSession, loadOnnxSession } from './onnx.js';
import { HEIST_META } from './onnx-writer.js';
import { HeistError } from '../core/errors.js';
import {
  type InputDomain,
  type ModelInfo,
  type OutputKind,
  type Predictor,
  type Prediction,
  labelPrediction,
  probsPrediction,
} from '../core/prediction.js';
import { type Tensor, argmaxRows, rowCount, rowSize, softmaxRows } from '../core/tensor.js';

/** What the graph output holds: probabilities, raw logits, or log-probabilities. */
export type GraphOutputKind = 'probs' | 'logits' | 'logprobs';

export interface OnnxModelOverrides {
  readonly name?: string;
  /** Shape of one row as callers see it; its size must match the graph's row size. */
  readonly inputShape?: readonly number[];
  readonly domain?: InputDomain;
  readonly classNames?: readonly string[];
  /** What predict answers: 'probs' (default), 'label' (top-1 only) or 'logits' (pre-softmax scores). */
  readonly output?: OutputKind;
  /** How to read the graph output, bypassing the metadata / last-op rule. */
  readonly graphOutput?: GraphOutputKind;
  /** Rows per onnxruntime call (default: up to 1024, fewer for large rows). Ignored if the graph fixes the batch size. */
  readonly batchSize?: number;
}

export type OnnxPredictor = Predictor & {
  readonly graphOutput: GraphOutputKind;
  close(): Promise<void>;
};

const badModel = (msg: string): HeistError => new HeistError('HEIST_ERR_BAD_MODEL', msg);

/**
 * The rule: heist.output metadata ('probs' | 'logits' | 'logprobs') wins; otherwise the op that
 * computes the output (looking through Identity) decides: Softmax -> 'probs', LogSoftmax ->
 * 'logprobs', anything else -> 'logits' (softmax is applied). Values are never inspected.
 */
export function graphOutputKind(metadata: Readonly<Record<string, string>>, outputOp: string): GraphOutputKind {
  const declared = metadata[HEIST_META.output];
  if (declared === 'probs' || declared === 'logits' || declared === 'logprobs') return declared;
  if (outputOp === 'Softmax') return 'probs';
  if (outputOp === 'LogSoftmax') return 'logprobs';
  return 'logits';
}

function metaJson(metadata: Readonly<Record<string, string>>, key: string): unknown {
  const raw = metadata[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw badModel(`metadata ${key} is not valid JSON`);
  }
}

const isShape = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && d > 0);
const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const squeeze = (s: readonly number[]): string => s.filter((d) => d !== 1).join(',');

function resolveDomain(overrides: OnnxModelOverrides, metadata: Readonly<Record<string, string>>): InputDomain {
  if (overrides.domain) return overrides.domain;
  const d = metaJson(metadata, HEIST_META.domain) as { min?: unknown; max?: unknown } | undefined;
  if (d === undefined) return { min: 0, max: 1 };
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.min !== 'number' ||
    typeof d.max !== 'number' ||
    !(d.min < d.max)
  ) {
    throw badModel(`metadata ${HEIST_META.domain} must be {"min": number, "max": number}`);
  }
  return { min: d.min, max: d.max };
}

/** Turns one chunk of graph output into what predict answers (probabilities or logits). */
function postprocess(out: Tensor, kind: GraphOutputKind, want: OutputKind): Tensor {
  if (want === 'logits') return kind === 'probs' ? { data: out.data.map((p) => Math.log(p)), shape: out.shape } : out;
  if (kind === 'probs') return out;
  return softmaxRows(out); // softmax(log p) = p for log-probabilities as well
}

/** Loads an ONNX classifier (path or bytes). Throws HEIST_ERR_BAD_MODEL when it is unreadable or not a classifier. */
export async function loadOnnxModel(
  pathOrBytes: string | Uint8Array,
  overrides: OnnxModelOverrides = {},
): Promise<OnnxPredictor> {
  const want = overrides.output ?? 'probs';
  if (want === 'topk') throw new HeistError('HEIST_ERR_BAD_CONFIG', "an ONNX model cannot answer 'topk'");
  const session = await loadOnnxSession(pathOrBytes);
  try {
    return await wrap(session, pathOrBytes, overrides, want);
  } catch (e) {
    await session.close();
    throw e;
  }
}

async function wrap(
  session: OnnxSession,
  source: string | Uint8Array,
  overrides: OnnxModelOverrides,
  want: OutputKind,
): Promise<OnnxPredictor> {
  const { metadata, summary } = session;
  if (session.inputs.length !== 1 || session.outputs.length !== 1) {
    throw badModel(
      `expected one input and one output, the model has ${session.inputs.length} and ${session.outputs.length}`,
    );
  }
  const [input] = session.inputs;
  const [output] = session.outputs;
  if (input.type !== 'float32') throw badModel(`the model input is ${input.type}, expected float32`);
  if (output.type !== 'float32' && output.type !== 'float64')
    throw badModel(`the model output is ${output.type}, expected float`);
  if (output.shape.length !== 0 && output.shape.length !== 2)
    throw badModel(`the model output has rank ${output.shape.length}, expected [batch, classes]`);

  // Row shape: what the graph needs (feedShape) and what callers see (inputShape).
  const dims = input.shape;
  if (dims.length === 1) throw badModel('the model input has no batch dimension');
  const fixedBatch = typeof dims[0] === 'number' ? dims[0] : undefined;
  const graphRow = dims.slice(1);
  const graphShape =
    graphRow.length > 0 && graphRow.every((d) => typeof d === 'number') ? (graphRow as number[]) : undefined;
  const metaShape = metaJson(metadata, HEIST_META.inputShape);
  if (metaShape !== undefined && !isShape(metaShape))
    throw badModel(`metadata ${HEIST_META.inputShape} is not a shape`);
  const inputShape = overrides.inputShape ? [...overrides.inputShape] : (metaShape ?? graphShape);
  if (!inputShape || !isShape(inputShape)) {
    throw badModel('cannot tell the input row shape from the graph; pass overrides.inputShape');
  }
  const size = product(inputShape);
  if (graphShape && product(graphShape) !== size) {
    const code = overrides.inputShape ? 'HEIST_ERR_BAD_CONFIG' : 'HEIST_ERR_BAD_MODEL';
    throw new HeistError(code, `input shape [${inputShape}] does not fit the graph input [${graphShape}]`);
  }
  const feedShape = graphShape ?? inputShape;
  const chunk = fixedBatch ?? Math.max(1, Math.min(overrides.batchSize ?? 1024, Math.floor((1 << 22) / size)));

  const runChunk = async (data: Float32Array, rows: number): Promise<Tensor> => {
    const b = fixedBatch ?? rows;
    const feed = b === rows ? data : new Float32Array(b * size);
    if (feed !== data) feed.set(data);
    const out = await session.run(feed, [b, ...feedShape]);
    if (out.dims.length !== 2 || out.dims[0] !== b)
      throw badModel(`the model answered [${out.dims}] for a batch of ${b}`);
    const k = out.dims[1];
    return { data: b === rows ? out.data : out.data.slice(0, rows * k), shape: [rows, k] };
  };

  // Probe: one all-zero batch; fixes the class count and checks the model runs at all.
  let classes: number;
  try {
    classes = (await runChunk(new Float32Array(size), 1)).shape[1];
  } catch (e) {
    throw new HeistError(
      'HEIST_ERR_BAD_MODEL',
      `the model does not run on a [1, ${feedShape}] input: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (classes < 2) throw badModel(`the model has ${classes} output column(s); a classifier needs at least 2`);
  const metaClasses = metaJson(metadata, HEIST_META.classes);
  if (metaClasses !== undefined && metaClasses !== classes)
    throw badModel(`metadata says ${String(metaClasses)} classes, the graph has ${classes}`);
  const classNames = overrides.classNames ?? (metaJson(metadata, HEIST_META.classNames) as string[] | undefined);
  if (
    classNames !== undefined &&
    (!Array.isArray(classNames) || classNames.length !== classes || classNames.some((c) => typeof c !== 'string'))
  ) {
    throw badModel(`class names must be ${classes} strings`);
  }

  const graphOutput = overrides.graphOutput ?? graphOutputKind(metadata, summary.outputOps[output.name] ?? '');
  const name =
    overrides.name ??
    metadata[HEIST_META.name] ??
    (typeof source === 'string' ? basename(source).replace(/\.onnx$/i, '') : 'onnx-model');
  const info: ModelInfo = {
    name,
    inputShape,
    classes,
    ...(classNames ? { classNames } : {}),
    output: want,
    domain: resolveDomain(overrides, metadata),
  };
  const accepted = new Set([inputShape.join(','), String(size)]);

  const predict = async (x: Tensor): Promise<Prediction> => {
    const tail = x.shape.slice(1);
    if (
      x.shape.length < 2 ||
      rowSize(x) !== size ||
      (!accepted.has(tail.join(',')) && squeeze(tail) !== squeeze(inputShape))
    ) {
      throw new HeistError(
        'HEIST_ERR_SHAPE',
        `expected rows of shape [${inputShape}] or [${size}], got [${x.shape.join(', ')}]`,
      );
    }
    const n = rowCount(x);
    const scores = new Float32Array(n * classes);
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const out = await runChunk(x.data.subarray(start * size, (start + rows) * size), rows);
      if (out.shape[1] !== classes) throw badModel(`the model answered ${out.shape[1]} classes, expected ${classes}`);
      scores.set(postprocess(out, graphOutput, want).data, start * classes);
    }
    const t: Tensor = { data: scores, shape: [n, classes] };
    if (want === 'label') return labelPrediction(argmaxRows(t));
    if (want === 'logits') return { kind: 'logits', labels: argmaxRows(t), scores: t };
    return probsPrediction(t);
  };

  return { info, graphOutput, predict, close: () => session.close() };
}
