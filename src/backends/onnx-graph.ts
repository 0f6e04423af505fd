/**
 * @file The only place that touches ONNX protobuf (the `onnx-proto` package): a small graph builder
 * that encodes a standard ModelProto, and a reader that summarises a ModelProto (inputs, outputs,
 * metadata_props, opset, which op produces each output). Used by the ONNX writer, the ORT wrapper
 * and test fixtures that need to build foreign-layout models.
 */
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import { HeistError } from '../core/errors.js';

const { onnx } = onnxProto;

/** One attribute value, typed explicitly (ONNX distinguishes int from float). */
export type OnnxAttr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] };

/** A tensor dimension: a fixed size, or a symbolic name (e.g. 'batch'); '' when unknown. */
export type OnnxDim = number | string;

export interface OnnxModelOptions {
  readonly opset?: number;
  readonly irVersion?: number;
  readonly producer?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const AT = onnx.AttributeProto.AttributeType;

function valueInfo(name: string, dims: readonly OnnxDim[]): P.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, a: OnnxAttr): P.IAttributeProto {
  if ('i' in a) return { name, type: AT.INT, i: a.i };
  if ('f' in a) return { name, type: AT.FLOAT, f: a.f };
  if ('s' in a) return { name, type: AT.STRING, s: new TextEncoder().encode(a.s) };
  if ('ints' in a) return { name, type: AT.INTS, ints: [...a.ints] };
  return { name, type: AT.FLOATS, floats: [...a.floats] };
}

/** Builds one float32 ONNX graph, node by node, and encodes it as a ModelProto. */
export class OnnxGraphBuilder {
  private readonly nodes: P.INodeProto[] = [];
  private readonly initializers: P.ITensorProto[] = [];
  private readonly inputs: P.IValueInfoProto[] = [];
  private readonly outputs: P.IValueInfoProto[] = [];
  /** Operator domains other than the default one (e.g. onnxruntime's 'com.microsoft'), version 1. */
  private readonly domains = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh, unused value name. */
  fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, dims: readonly OnnxDim[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: readonly OnnxDim[]): string {
    this.outputs.push(valueInfo(name, dims));
    return name;
  }

  /** A float32 constant; returns its name. */
  initializer(name: string, dims: readonly number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length)
      throw new HeistError('HEIST_ERR_SHAPE', `initializer ${name}: ${data.length} values for dims [${dims}]`);
    const copy = Float32Array.from(data);
    this.initializers.push({ name, dims: [...dims], dataType: FLOAT, rawData: new Uint8Array(copy.buffer) });
    return name;
  }

  /** An int64 constant (axes, shapes); returns its name. */
  int64Initializer(name: string, values: readonly number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** A float32 scalar (rank 0) constant; returns its name. */
  scalar(name: string, value: number): string {
    const data = Float32Array.of(value);
    this.initializers.push({ name, dims: [], dataType: FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** Adds a node; returns its first output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Readonly<Record<string, OnnxAttr>> = {},
    domain = '',
  ): string {
    if (domain) this.domains.add(domain);
    this.nodes.push({
      opType,
      domain,
      name: `${opType}_${this.nodes.length}`,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs[0];
  }

  /** Encodes the graph as a binary ModelProto. */
  encode(options: OnnxModelOptions = {}): Uint8Array {
    const model: P.IModelProto = {
      irVersion: options.irVersion ?? 8,
      opsetImport: [
        { domain: '', version: options.opset ?? 13 },
        ...[...this.domains].map((domain) => ({ domain, version: 1 })),
      ],
      producerName: options.producer ?? 'heist',
      producerVersion: options.producerVersion ?? '',
      docString: options.docString ?? '',
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

/** A graph input or output as declared in the ModelProto. */
export interface OnnxValueSummary {
  readonly name: string;
  /** ONNX TensorProto.DataType number (1 = float32); 0 when not a tensor. */
  readonly elemType: number;
  /** undefined when the shape is not declared at all. */
  readonly dims?: readonly OnnxDim[];
}

export interface OnnxModelSummary {
  readonly irVersion: number;
  readonly opset: number;
  readonly producer: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Graph inputs that are not initializers (old exporters list weights as inputs). */
  readonly inputs: readonly OnnxValueSummary[];
  readonly outputs: readonly OnnxValueSummary[];
  /** Per output name: the op type that computes it, looking through Identity nodes ('' if none). */
  readonly outputOps: Readonly<Record<string, string>>;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && 'toNumber' in v && typeof v.toNumber === 'function')
    return Number(v.toNumber());
  return Number(v);
}

function summariseValue(v: P.IValueInfoProto): OnnxValueSummary {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim?.map(
    (d): OnnxDim =>
      d.dimValue !== undefined && d.dimValue !== null && toNumber(d.dimValue) > 0
        ? toNumber(d.dimValue)
        : (d.dimParam ?? ''),
  );
  return { name: v.name ?? '', elemType: tt?.elemType ?? 0, dims: tt?.shape ? (dims ?? []) : undefined };
}

/** Parses a binary ModelProto; throws HEIST_ERR_BAD_MODEL when it is not one. */
export function readOnnxSummary(bytes: Uint8Array): OnnxModelSummary {
  let model: P.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `not an ONNX model: ${(e as Error).message}`, { cause: e });
  }
  const graph = model.graph;
  if (!graph) throw new HeistError('HEIST_ERR_BAD_MODEL', 'not an ONNX model: the ModelProto has no graph');
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const producers = new Map<string, P.INodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producers.set(o, n);
  const outputOps: Record<string, string> = {};
  for (const o of graph.output ?? []) {
    let node = producers.get(o.name ?? '');
    for (let hops = 0; node?.opType === 'Identity' && hops < 100; hops++) node = producers.get(node.input?.[0] ?? '');
    outputOps[o.name ?? ''] = node?.opType ?? '';
  }
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  const defaultOpset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    irVersion: toNumber(model.irVersion),
    opset: defaultOpset ? toNumber(defaultOpset.version) : 0,
    producer: model.producerName ?? '',
    metadata,
    inputs: (graph.input ?? []).filter((i) => !weights.has(i.name ?? '')).map(summariseValue),
    outputs: (graph.output ?? []).map(summariseValue),
    outputOps,
  };
}

/** A float32 initializer (weights) of a ModelProto. */
export interface OnnxInitializer {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/** The float32 initializers of a binary ModelProto by name (raw_data or float_data); others are skipped. */
export function readOnnxInitializers(bytes: Uint8Array): Record<string, OnnxInitializer> {
  const graph = onnx.ModelProto.decode(bytes).graph;
  const out: Record<string, OnnxInitializer> = {};
  for (const t of graph?.initializer ?? []) {
    if (t.dataType !== FLOAT || !t.name) continue;
    const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
    const data = raw
      ? new Float32Array(Uint8Array.from(raw).buffer, 0, raw.length / 4)
      : Float32Array.from(t.floatData ?? []);
    out[t.name] = { dims: (t.dims ?? []).map(toNumber), data };
  }
  return out;
}
