/**
 * @file `heist train` as a function: train a victim on a scenario's victim split (or a data set's
 * default split), report its held-out accuracy, write it as ONNX, and check that onnxruntime gives
 * the same probabilities as the trained TF.js model (max abs difference).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Dataset, subset } from '../core/dataset.js';
import { HeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { accuracy } from '../eval/metrics.js';
import { loadDataset } from '../datasets/registry.js';
import { loadScenarioData, scenarios } from '../datasets/scenarios.js';
import { stratifiedSplit } from '../datasets/splits.js';
import { networkToOnnx } from '../backends/onnx-writer.js';
import { loadOnnxModel } from '../backends/onnx-model.js';
import { createSurrogate, surrogates } from '../surrogates/index.js';
import type { Arch } from '../surrogates/types.js';
import { trainTreeFile } from './train-tree.js';

export interface TrainOptions {
  readonly scenario?: string;
  readonly dataset?: string;
  /** 'tree': a CART decision tree written as heist.tree/v1 JSON (not ONNX). */
  readonly arch?: Arch | 'tree';
  /** Trees only: longest path (default 10) and fewest training rows per leaf (default 1). */
  readonly maxDepth?: number;
  readonly minSamplesLeaf?: number;
  readonly hidden?: readonly number[];
  readonly epochs?: number;
  readonly seed?: number;
  /** Training engine (backends/train-engines.ts); default HEIST_TRAIN_ENGINE, else onnxruntime. */
  readonly engine?: string;
  readonly out: string;
  readonly onEpoch?: (epoch: number, epochs: number, loss: number) => void;
}

export interface TrainResult {
  readonly name: string;
  readonly arch: Arch | 'tree';
  readonly trainRows: number;
  readonly testRows: number;
  readonly testAccuracy: number;
  /** Largest |p of the exported ONNX file (onnxruntime) - p of the trained network| over the test rows. */
  readonly onnxMaxAbsDiff: number;
  readonly out: string;
  readonly wallMs: number;
}

function splitFor(opts: TrainOptions): {
  name: string;
  train: Dataset;
  test: Dataset;
  arch: Arch | 'tree';
  hidden?: readonly number[];
} {
  if (opts.scenario) {
    const s = scenarios[opts.scenario];
    if (!s)
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `unknown scenario "${opts.scenario}"; known: ${Object.keys(scenarios).join(', ')}`,
      );
    const d = loadScenarioData(s.name);
    return {
      name: s.name,
      train: d.victimTrain,
      test: d.evaluation,
      arch: opts.arch ?? s.victimArch,
      hidden: opts.hidden ?? s.hidden,
    };
  }
  if (!opts.dataset)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      'heist train needs --scenario <name> or --dataset <name> --arch <arch>',
    );
  if (!opts.arch)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `--dataset needs --arch ${[...surrogates.names(), 'tree'].join('|')}`);
  const ds = loadDataset(opts.dataset);
  const n = ds.x.shape[0];
  // Default split for a bare data set: half victim training, a quarter pool, a quarter evaluation.
  const victim = Math.floor(n / 2);
  const pool = Math.floor(n / 4);
  const split = stratifiedSplit(ds.y!, { victim, pool, eval: n - victim - pool }, 0);
  return {
    name: `${opts.dataset}-${opts.arch}`,
    train: subset(ds, split.victim),
    test: subset(ds, split.eval),
    arch: opts.arch,
    hidden: opts.hidden,
  };
}

export async function runTrain(opts: TrainOptions): Promise<TrainResult> {
  const start = Date.now();
  const { name, train, test, arch, hidden } = splitFor(opts);
  if (arch === 'tree') {
    const t = trainTreeFile({
      name,
      train,
      test,
      out: opts.out,
      seed: opts.seed,
      maxDepth: opts.maxDepth,
      minSamplesLeaf: opts.minSamplesLeaf,
    });
    return {
      name,
      arch,
      trainRows: train.x.shape[0],
      testRows: test.x.shape[0],
      testAccuracy: t.testAccuracy,
      onnxMaxAbsDiff: 0,
      out: opts.out,
      wallMs: Date.now() - start,
    };
  }
  const unsuitable = surrogates.get(arch).unsuitable(train.x.shape.slice(1));
  if (unsuitable)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `--arch ${arch}: ${unsuitable}; "${train.name}" rows have shape [${train.x.shape.slice(1).join(', ')}]`,
    );
  const rng = createRng(opts.seed ?? 0);
  const inputShape = train.x.shape.slice(1);
  const model = await createSurrogate(
    arch,
    { inputShape, classes: train.classes, hidden, engine: opts.engine },
    rng.fork('init'),
  );
  const { fit, victimEpochs } = surrogates.get(arch);
  const epochs = opts.epochs ?? victimEpochs;
  await model.fit(
    { x: train.x, labels: train.y! },
    {
      loss: 'hard',
      epochs,
      batchSize: fit.batchSize,
      learningRate: fit.learningRate,
      rng: rng.fork('fit'),
      onEpoch: opts.onEpoch ? (e, l) => opts.onEpoch!(e, epochs, l) : undefined,
    },
  );
  const tfPred = await model.predict(test.x);
  const testAccuracy = accuracy(test.y!, tfPred.labels);
  const bytes = networkToOnnx(model.toSpec(), {
    name,
    domain: { min: 0, max: 1 },
    classNames: train.classNames ? [...train.classNames] : undefined,
  });
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, bytes);
  model.dispose();

  const onnx = await loadOnnxModel(opts.out);
  const ortPred = await onnx.predict(test.x);
  await onnx.close();
  let maxDiff = 0;
  const a = tfPred.scores!.data;
  const b = ortPred.scores!.data;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  return {
    name,
    arch,
    trainRows: train.x.shape[0],
    testRows: test.x.shape[0],
    testAccuracy,
    onnxMaxAbsDiff: maxDiff,
    out: opts.out,
    wallMs: Date.now() - start,
  };
}
