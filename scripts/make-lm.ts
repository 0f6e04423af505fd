/**
 * Trains the tiny byte-level language model on data/text/tiny-corpus.txt and writes
 * models/tiny-lm.json (deterministic: fixed seed, seeded batch order, tfjs wasm backend).
 *   node --import tsx scripts/make-lm.ts [--steps 800] [--hidden 96] [--seed 1] [--out models/tiny-lm.json]
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainTinyLm } from '../src/backends/tfjs-lm.js';
import { createRng } from '../src/core/rng.js';
import { repoRoot } from '../src/datasets/paths.js';
import { BYTE_VOCAB } from '../src/models/byte-tokenizer.js';
import { type TinyLmShape, tinyLmToJson } from '../src/models/tiny-lm.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

const corpusPath = join(repoRoot, 'data', 'text', 'tiny-corpus.txt');
const corpus = new Uint8Array(readFileSync(corpusPath));
const seed = Number(arg('seed', '1'));
const steps = Number(arg('steps', '800'));
const shape: TinyLmShape = { vocab: BYTE_VOCAB, context: 8, embed: 24, mlp: 256, hidden: Number(arg('hidden', '96')) };
const training = {
  seed,
  steps,
  batchSize: 128,
  learningRate: 3e-3,
  schedule: 'cosine',
  optimizer: 'adam (JS)',
  backend: 'tfjs wasm',
};
const t0 = performance.now();
const res = await trainTinyLm(corpus, shape, {
  steps,
  batchSize: training.batchSize,
  learningRate: training.learningRate,
  rng: createRng(seed),
  every: 250,
  onProgress: (step, loss) => process.stdout.write(`step ${step}/${steps}  loss ${loss.toFixed(4)} nats/byte\n`),
});
const seconds = (performance.now() - t0) / 1000;
const meta = {
  corpus: {
    file: 'data/text/tiny-corpus.txt',
    bytes: corpus.length,
    sha256: createHash('sha256').update(corpus).digest('hex'),
  },
  training: { ...training, finalLoss: res.finalLoss, seconds: Number(seconds.toFixed(1)) },
  architecture:
    'last 8 bytes -> embedding 24 each -> dense 256 + ReLU -> dense h + tanh = g -> logits = W g (W [256, h], no bias)',
};
const out = arg('out', join(repoRoot, 'models', 'tiny-lm.json'));
writeFileSync(out, tinyLmToJson({ ...shape, name: 'tiny-lm', params: res.params, meta }));
process.stdout.write(
  `wrote ${out}: h=${shape.hidden}, final loss ${res.finalLoss.toFixed(4)} nats/byte, ${seconds.toFixed(1)} s\n`,
);
