/**
 * @file TF.js models as local targets: a `model.json` (a layers model from tf.LayersModel.save or
 * tensorflowjs_converter's `layers-model`, or a `graph-model`) plus the weight shards its
 * weightsManifest names, read from disk (no tfjs-node: the files go through tf.io.fromMemory) and
 * run on the wasm backend. The model's input shape and class count come from its signature; its
 * answers are probabilities when its last op is a softmax, else logits (softmaxed here, as ONNX
 * files are). `heist scan-web` saves such files from a page; this turns them into a Predictor.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { HeistError } from '../core/errors.js';
import {
  type InputDomain,
  type ModelInfo,
  type Prediction,
  type Predictor,
  probsPrediction,
} from '../core/prediction.js';
import { type Tensor, rowCount, softmaxRows } from '../core/tensor.js';
import { initTfjs } from './tfjs.js';

export interface TfjsPredictor extends Predictor {
  readonly format: 'layers-model' | 'graph-model';
  close(): Promise<void>;
}

interface ModelJson {
  readonly format?: string;
  readonly modelTopology?: unknown;
  readonly weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  readonly signature?: unknown;
}

const bad = (path: string, why: string): HeistError => new HeistError('HEIST_ERR_BAD_MODEL', `${path}: ${why}`);

/** Reads model.json and its shards into tfjs ModelArtifacts. */
export function readTfjsArtifacts(path: string): {
  artifacts: tf.io.ModelArtifacts;
  format: 'layers-model' | 'graph-model';
} {
  let doc: ModelJson;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as ModelJson;
  } catch (e) {
    throw bad(path, `not a readable TF.js model.json (${(e as Error).message})`);
  }
  if (!doc.modelTopology || !Array.isArray(doc.weightsManifest))
    throw bad(path, 'a TF.js model.json has modelTopology and weightsManifest');
  const topology = doc.modelTopology as Record<string, unknown>;
  const format = doc.format === 'graph-model' || 'node' in topology ? 'graph-model' : 'layers-model';
  const weightSpecs = doc.weightsManifest.flatMap((g) => g.weights);
  const buffers = doc.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dirname(path), p))));
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  return {
    format,
    artifacts: {
      modelTopology: doc.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs,
      weightData: weightData.buffer,
      format,
      ...(doc.signature ? { signature: doc.signature as object } : {}),
    },
  };
}

function dims(shape: readonly (number | null)[] | undefined, path: string, what: string): number[] {
  if (!shape || shape.length < 2 || shape.slice(1).some((d) => d === null || !(d > 0)))
    throw bad(path, `the ${what} has no fixed row shape [${shape}]`);
  return shape.slice(1) as number[];
}

export async function loadTfjsModel(
  path: string,
  options: { name?: string; domain?: InputDomain } = {},
): Promise<TfjsPredictor> {
  await initTfjs();
  const { artifacts, format } = readTfjsArtifacts(path);
  let run: (x: tf.Tensor) => tf.Tensor;
  let inputShape: number[];
  let classes: number;
  let softmaxed: boolean;
  let dispose: () => void;
  if (format === 'layers-model') {
    const m = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    inputShape = dims(m.inputs[0]?.shape, path, 'input');
    const out = m.outputs[0]?.shape;
    classes = out?.[out.length - 1] ?? 0;
    const last = m.layers[m.layers.length - 1]?.getConfig() as { activation?: string } | undefined;
    softmaxed = last?.activation === 'softmax' || m.layers[m.layers.length - 1]?.getClassName() === 'Softmax';
    run = (x) => m.predict(x) as tf.Tensor;
    dispose = () => m.dispose();
  } else {
    const m = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    const input = m.inputs[0];
    inputShape = dims(
      input?.shape?.map((d) => (d < 0 ? null : d)),
      path,
      'input',
    );
    const out = m.outputs[0]?.shape;
    classes = out?.[out.length - 1] ?? 0;
    const nodes = (artifacts.modelTopology as { node?: { name: string; op: string }[] }).node ?? [];
    const outName = (m.outputs[0]?.name ?? '').replace(/:\d+$/, '');
    softmaxed = nodes.find((n) => n.name === outName)?.op === 'Softmax';
    run = (x) => m.predict(x) as tf.Tensor;
    dispose = () => m.dispose();
  }
  if (!(classes >= 2)) {
    // No static output shape (a graph without a signature): one all-zero row tells.
    const probe = tf.tidy(() => run(tf.zeros([1, ...inputShape])));
    classes = probe.size;
    probe.dispose();
  }
  if (!(classes >= 2)) throw bad(path, 'the output has no class axis of at least 2');
  let closed = false;
  const info: ModelInfo = {
    name: options.name ?? 'tfjs-model',
    inputShape,
    classes,
    output: 'probs',
    domain: options.domain ?? { min: 0, max: 1 },
  };
  return {
    info,
    format,
    async predict(x: Tensor): Promise<Prediction> {
      const n = rowCount(x);
      const out = tf.tidy(() => run(tf.tensor(x.data, [n, ...inputShape], 'float32')));
      const data = Float32Array.from(await out.data());
      out.dispose();
      const scores = { data, shape: [n, classes] };
      // Logits models are answered as their softmax, as ONNX files without a Softmax are.
      return probsPrediction(softmaxed ? scores : softmaxRows(scores));
    },
    close: async () => {
      // Idempotent: a run closes its target once through the query client and once itself.
      if (closed) return;
      closed = true;
      dispose();
    },
  };
}
