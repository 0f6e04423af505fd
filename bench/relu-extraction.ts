/**
 * @file ReLU-network extraction figures -> bench/results/relu-extraction.json.
 *  - relu-jagielski on a 64-8-10 MLP trained on digits and a 784-16-10 MLP trained on MNIST
 *    (mnist-cnn scenario data), served as float64 logits and as float32 logits: fidelity on the
 *    scenario's evaluation split and on 10,000 uniform inputs, and the query count.
 *  - relu-cryptanalytic on random 16-8-4 / 64-8-10 / 10-10-10-1 / 16-8-8-1 networks and the trained
 *    64-8-10, float64 and float32 logits: max relative weight error after aligning permutation and
 *    scale (log2), query count, beside Carlini et al.'s 2^18.5 queries for ~4,000 parameters.
 * Run: node --import tsx bench/relu-extraction.ts
 */
import {
  alignNetworks,
  createReluCryptanalytic,
  createReluJagielski,
  extractedNetwork,
} from '../src/attacks/extract/relu-network/index.js';
import type { Extractor } from '../src/attacks/extract/types.js';
import type { Dataset } from '../src/core/dataset.js';
import { isHeistError } from '../src/core/errors.js';
import { createRng } from '../src/core/rng.js';
import { type Tensor, tensor } from '../src/core/tensor.js';
import { loadScenarioData } from '../src/datasets/scenarios.js';
import { type DenseReluNet, denseReluFromSpec, denseReluPredictor, randomDenseRelu } from '../src/models/dense-relu.js';
import { localOracle } from '../src/oracle/local.js';
import { createSurrogate } from '../src/surrogates/index.js';
import { writeBenchResult } from './results-file.js';

async function train(data: Dataset, hidden: number, epochs: number): Promise<DenseReluNet> {
  const d = data.x.data.length / data.x.shape[0];
  const flat: Tensor = { data: data.x.data, shape: [data.x.shape[0], d] };
  const s = await createSurrogate('mlp', { inputShape: [d], classes: 10, hidden: [hidden] }, createRng(1));
  await s.fit(
    { x: flat, labels: data.y! },
    { loss: 'hard', epochs, batchSize: 64, learningRate: 3e-3, rng: createRng(2) },
  );
  const net = denseReluFromSpec(s.toSpec());
  s.dispose();
  return net;
}

function agreement(a: Int32Array, b: Int32Array): number {
  return a.filter((v, i) => v === b[i]).length / a.length;
}

async function fidelity(
  truth: DenseReluNet,
  extracted: DenseReluNet,
  evalSet: Dataset,
): Promise<{ evalSplit: number; uniform: number }> {
  const d = truth.layers[0].inputs;
  const t = denseReluPredictor(truth);
  const e = denseReluPredictor(extracted);
  const ev: Tensor = { data: evalSet.x.data, shape: [evalSet.x.shape[0], d] };
  const rng = createRng(99);
  const u = tensor(
    Float32Array.from({ length: 10_000 * d }, () => rng.next()),
    [10_000, d],
  );
  return {
    evalSplit: agreement(t.predict(ev).labels, e.predict(ev).labels),
    uniform: agreement(t.predict(u).labels, e.predict(u).labels),
  };
}

async function attack(
  ex: Extractor,
  truth: DenseReluNet,
  precision: 'float64' | 'float32',
  evalSet?: Dataset,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  try {
    const r = await ex.extract(localOracle(denseReluPredictor(truth, { precision })), {
      rng: createRng(5),
      budget: 2_000_000,
    });
    const net = extractedNetwork(r)!.net;
    const a = alignNetworks(truth, net);
    return {
      precision,
      queries: r.queriesUsed,
      log2Queries: Number(Math.log2(r.queriesUsed).toFixed(2)),
      maxRelWeightError: a.maxRelError,
      log2MaxRelWeightError: Number(a.bits.toFixed(2)),
      layerErrors: a.layerErrors,
      ...(evalSet ? { fidelity: await fidelity(truth, net, evalSet) } : {}),
      wallMs: Math.round(performance.now() - t0),
      diagnostics: r.diagnostics,
    };
  } catch (e) {
    return {
      precision,
      failed: isHeistError(e) ? `${e.code}: ${e.message}` : String(e),
      wallMs: Math.round(performance.now() - t0),
    };
  }
}

const params = (n: DenseReluNet) => n.layers.reduce((s, l) => s + l.kernel.length + l.bias.length, 0);

async function main(): Promise<void> {
  const out: Record<string, unknown> = {};
  const digits = loadScenarioData('digits-mlp');
  const mnist = loadScenarioData('mnist-cnn');
  const digitsNet = await train(digits.victimTrain, 8, 60);
  const mnistNet = await train(mnist.victimTrain, 16, 10);
  const jag = createReluJagielski({ timeLimitMs: 300_000 });
  for (const [name, net, ev] of [
    ['digits-64-8-10-trained', digitsNet, digits.evaluation],
    ['mnist-784-16-10-trained', mnistNet, mnist.evaluation],
  ] as const) {
    for (const p of ['float64', 'float32'] as const) {
      out[`jagielski/${name}/${p}`] = { parameters: params(net), ...(await attack(jag, net, p, ev)) };
      process.stdout.write(`jagielski ${name} ${p}: ${JSON.stringify(out[`jagielski/${name}/${p}`])}\n`);
    }
  }
  const cases: [string, DenseReluNet][] = [
    ['random-16-8-4', randomDenseRelu(createRng(7), [16, 8, 4])],
    ['random-784-16-10', randomDenseRelu(createRng(10), [784, 16, 10])],
    ['mnist-784-16-10-trained', mnistNet],
    ['random-64-8-10', randomDenseRelu(createRng(8), [64, 8, 10])],
    ['digits-64-8-10-trained', digitsNet],
    ['random-10-10-10-1', randomDenseRelu(createRng(9), [10, 10, 10, 1])],
    ['random-16-8-8-1', randomDenseRelu(createRng(7), [16, 8, 8, 1])],
  ];
  for (const [name, net] of cases) {
    for (const p of ['float64', 'float32'] as const) {
      // Architecture known, as in Carlini et al.
      const crypto = createReluCryptanalytic({
        hidden: net.layers.slice(0, -1).map((l) => l.units),
        timeLimitMs: 300_000,
      });
      out[`cryptanalytic/${name}/${p}`] = { parameters: params(net), ...(await attack(crypto, net, p)) };
      process.stdout.write(`cryptanalytic ${name} ${p}: ${JSON.stringify(out[`cryptanalytic/${name}/${p}`])}\n`);
    }
  }
  const path = writeBenchResult('relu-extraction', {
    reference: {
      carlini2020: {
        queries: 2 ** 18.5,
        log2Queries: 18.5,
        parameters: '~4,000',
        note: 'Carlini, Jagielski, Mironov, CRYPTO 2020, arXiv:2003.04884',
      },
    },
    results: out,
  });
  process.stdout.write(`wrote ${path}\n`);
}

await main();
