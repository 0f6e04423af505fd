import { createRng } from '/work/main/src/core/rng.js';
import { randomDenseRelu, denseReluPredictor } from '/work/main/src/models/dense-relu.js';
import { localOracle } from '/work/main/src/oracle/local.js';
import { alignNetworks, createReluCryptanalytic, extractedNetwork } from '/work/main/src/attacks/extract/relu-network/index.js';
const sizes = (process.argv[2] ?? '16-8-8-1').split('-').map(Number);
const seed = Number(process.argv[3] ?? 7);
const prec = (process.argv[4] ?? 'float64') as 'float64';
const truth = randomDenseRelu(createRng(seed), sizes);
const t0 = performance.now();
try {
  const r = await createReluCryptanalytic({ hidden: sizes.slice(1, -1) }).extract(localOracle(denseReluPredictor(truth, { precision: prec })), { rng: createRng(5), budget: 2_000_000 });
  const a = alignNetworks(truth, extractedNetwork(r)!.net);
  console.log(sizes.join('-'), seed, 'err 2^' + a.bits.toFixed(1), a.layerErrors.map((e) => e.toExponential(1)), 'q', r.queriesUsed, 'ms', Math.round(performance.now() - t0), r.notes.join(' | '));
} catch (e) { console.log(sizes.join('-'), seed, 'FAIL', (e as Error).message, Math.round(performance.now() - t0)); }
