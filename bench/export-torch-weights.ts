/**
 * @file Writes an ONNX classifier's graph (a chain of nodes: op, inputs, outputs, attributes) and its
 * float32 initializers as JSON, so bench/torch_server.py can rebuild the same network with the same
 * weights in PyTorch without any ONNX package on the Python side. Weights come from the repo's own
 * reader (readOnnxInitializers); the node list from the same onnx-proto decode.
 * Usage: node --import tsx bench/export-torch-weights.ts model.onnx out.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import { readOnnxInitializers, readOnnxSummary } from '../src/backends/onnx-graph.js';

export interface TorchSpecNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer, float and integer-list attributes (all this model family uses). */
  readonly attrs: Readonly<Record<string, number | readonly number[]>>;
}

export interface TorchSpec {
  readonly name: string;
  readonly input: { readonly name: string; readonly dims: readonly (number | string)[] };
  readonly output: string;
  readonly nodes: readonly TorchSpecNode[];
  readonly initializers: Readonly<
    Record<string, { readonly dims: readonly number[]; readonly data: readonly number[] }>
  >;
}

const num = (v: unknown): number =>
  typeof v === 'number'
    ? v
    : v && typeof v === 'object' && 'toNumber' in v
      ? (v as { toNumber(): number }).toNumber()
      : Number(v);

export function torchSpec(modelPath: string): TorchSpec {
  const bytes = new Uint8Array(readFileSync(modelPath));
  const summary = readOnnxSummary(bytes);
  const graph = onnxProto.onnx.ModelProto.decode(bytes).graph!;
  const AT = onnxProto.onnx.AttributeProto.AttributeType;
  const nodes = (graph.node ?? []).map((n) => {
    const attrs: Record<string, number | number[]> = {};
    for (const a of n.attribute ?? []) {
      if (a.type === AT.INT) attrs[a.name!] = num(a.i);
      else if (a.type === AT.FLOAT) attrs[a.name!] = a.f ?? 0;
      else if (a.type === AT.INTS) attrs[a.name!] = (a.ints ?? []).map(num);
      else throw new Error(`node ${n.opType}: attribute ${a.name} of type ${a.type} is not exported`);
    }
    return { op: n.opType ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
  });
  const initializers: Record<string, { dims: number[]; data: number[] }> = {};
  for (const [name, t] of Object.entries(readOnnxInitializers(bytes)))
    initializers[name] = { dims: [...t.dims], data: Array.from(t.data) };
  const input = summary.inputs[0];
  return {
    name: summary.metadata['heist.name'] ?? 'model',
    input: { name: input.name, dims: input.dims ?? [] },
    output: summary.outputs[0].name,
    nodes,
    initializers,
  };
}

export function exportTorchWeights(modelPath: string, outPath: string): TorchSpec {
  const spec = torchSpec(modelPath);
  writeFileSync(outPath, JSON.stringify(spec));
  return spec;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [model, out] = process.argv.slice(2);
  const spec = exportTorchWeights(model, out);
  process.stdout.write(
    `${spec.name}: ${spec.nodes.length} nodes, ${Object.keys(spec.initializers).length} initializers -> ${out}\n`,
  );
}
