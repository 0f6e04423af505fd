/**
 * @file Thin onnxruntime-node wrapper: one InferenceSession per model, plus what the ModelProto
 * declares (input/output names and shapes, metadata_props, the op behind each output). ORT's node
 * binding does not expose metadata_props, so the ModelProto is also parsed with onnx-proto
 * (onnx-graph.ts). run() may be called concurrently: ORT node executes each run synchronously on
 * the main thread, so calls simply queue; close() waits for runs in flight.
 */
import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { HeistError } from '../core/errors.js';
import { type OnnxDim, type OnnxModelSummary, readOnnxSummary } from './onnx-graph.js';

export type { OnnxDim } from './onnx-graph.js';

export interface OnnxValueInfo {
  readonly name: string;
  /** ORT type name, e.g. 'float32'; 'non-tensor' for sequences and maps. */
  readonly type: string;
  /** Declared dims: numbers, or symbolic names ('' when unknown). */
  readonly shape: readonly OnnxDim[];
}

export interface OnnxRunResult {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface OnnxSession {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** metadata_props of the ModelProto. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly summary: OnnxModelSummary;
  /** Runs the (first, unless named) input through the model; returns the first (or named) output as float32. */
  run(data: Float32Array, dims: readonly number[], names?: { input?: string; output?: string }): Promise<OnnxRunResult>;
  /** Releases the session once the runs in flight finish. Idempotent. */
  close(): Promise<void>;
}

export interface OnnxSessionOptions {
  /** ORT intra-op threads (default: ORT's choice). */
  readonly intraOpThreads?: number;
  /** Let idle intra-op threads busy-wait for work (ORT's default; here off unless asked for). */
  readonly spinning?: boolean;
}

async function readBytes(pathOrBytes: string | Uint8Array): Promise<Uint8Array> {
  if (typeof pathOrBytes !== 'string') return pathOrBytes;
  try {
    return new Uint8Array(await readFile(pathOrBytes));
  } catch (e) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `cannot read model file ${pathOrBytes}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function describe(meta: readonly InferenceSession.ValueMetadata[]): OnnxValueInfo[] {
  return meta.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

function toFloat32(data: unknown): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array) return Float32Array.from(data);
  throw new HeistError('HEIST_ERR_BAD_MODEL', 'model output is not a float tensor');
}

/** Loads an ONNX model file (path or bytes). Throws HEIST_ERR_BAD_MODEL when unreadable. */
export async function loadOnnxSession(
  pathOrBytes: string | Uint8Array,
  options: OnnxSessionOptions = {},
): Promise<OnnxSession> {
  const bytes = await readBytes(pathOrBytes);
  const summary = readOnnxSummary(bytes);
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, {
      logSeverityLevel: 3,
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      // Spinning threads steal the cores the event loop (HTTP, JSON) and other processes need:
      // on a shared 2-core box it halved batch-1 throughput and hurt batch 256 as well.
      extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
    });
  } catch (e) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `onnxruntime cannot load the model: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const inputs = describe(session.inputMetadata);
  const outputs = describe(session.outputMetadata);
  let inFlight = 0;
  let closed = false;
  let release: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const run = async (
    data: Float32Array,
    dims: readonly number[],
    names: { input?: string; output?: string } = {},
  ): Promise<OnnxRunResult> => {
    if (closed) throw new HeistError('HEIST_ERR_INTERNAL', 'the ONNX session is closed');
    const inputName = names.input ?? inputs[0]?.name;
    const outputName = names.output ?? outputs[0]?.name;
    if (inputName === undefined || outputName === undefined)
      throw new HeistError('HEIST_ERR_BAD_MODEL', 'the model has no inputs or no outputs');
    inFlight += 1;
    try {
      const feed = new OrtTensor('float32', data, [...dims]);
      const result = await session.run({ [inputName]: feed }, [outputName]);
      const out = result[outputName];
      if (!out || !('dims' in out))
        throw new HeistError('HEIST_ERR_BAD_MODEL', `the model did not produce output ${outputName}`);
      const res = { data: toFloat32(out.data), dims: [...out.dims] };
      out.dispose();
      return res;
    } catch (e) {
      if (e instanceof HeistError) throw e;
      throw new HeistError('HEIST_ERR_SHAPE', `onnxruntime rejected the input [${dims}]: ${(e as Error).message}`, {
        cause: e,
      });
    } finally {
      inFlight -= 1;
      if (inFlight === 0) drained?.();
    }
  };

  const close = (): Promise<void> => {
    if (release) return release;
    closed = true;
    release = (async () => {
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      await session.release();
    })();
    return release;
  };

  return { inputs, outputs, metadata: summary.metadata, summary, run, close };
}
