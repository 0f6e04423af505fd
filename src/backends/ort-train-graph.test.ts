/**
 * @file The onnxruntime step graph's two image layouts: which specs take NCHWc (`fitsNchwc`), and,
 * where this CPU has NCHWc kernels, that the blocked graph gives the NCHW graph's loss, weight
 * gradients and input gradients. (Both are also checked against finite differences in
 * test/conformance/training-engines.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { blockedSpec, inputs, mixedSpec, targets } from '../../test/helpers/net-reference.js';
import { createRng } from '../core/rng.js';
import type { NetworkSpec } from '../models/network-spec.js';
import { cnnSpec, initWeights } from '../surrogates/index.js';
import { compileUnits } from './net-units.js';
import { runtimeShape } from './ort-net.js';
import { NCHWC_DOMAIN, nchwcBlockSize } from './ort-nchwc.js';
import { stepFeeds } from './ort-step-feeds.js';
import { STEP_IO, type StepGraphMode, buildStepGraph, fitsNchwc } from './ort-train-graph.js';

function graphSpec(spec: NetworkSpec) {
  const { units, params, shapes } = compileUnits(spec.layers);
  return { inputShape: spec.inputShape, classes: spec.classes, units, shapes: shapes.map(runtimeShape), params };
}

test('fitsNchwc: whole channel blocks and tiling pools only, starting with a conv', () => {
  const cnn = graphSpec(cnnSpec({ inputShape: [28, 28, 1], classes: 10 }));
  assert.ok(fitsNchwc(cnn, 16) && fitsNchwc(cnn, 8));
  assert.ok(!fitsNchwc(cnn, 0), 'no block, no NCHWc');
  assert.ok(fitsNchwc(graphSpec(blockedSpec), 16));
  assert.ok(!fitsNchwc(graphSpec(mixedSpec), 16), '3 and 5 channels are not whole blocks');
  assert.ok(!fitsNchwc(graphSpec(cnnSpec({ inputShape: [14, 14, 1], classes: 10 })), 16), '7 rows do not tile by 2');
  const poolFirst: NetworkSpec = { ...blockedSpec, layers: [{ type: 'maxpool2d', size: 2 }, ...blockedSpec.layers] };
  assert.ok(!fitsNchwc({ ...graphSpec(poolFirst), inputShape: [20, 20, 3] }, 16), 'a pool on the raw input');
  const wide = graphSpec(cnnSpec({ inputShape: [28, 28, 20], classes: 10 }));
  assert.ok(!fitsNchwc(wide, 16) && fitsNchwc(wide, 4), '20 input channels: no whole 16-block, five 4-blocks');
});

async function runGraph(bytes: Uint8Array, feeds: Record<string, Tensor>, outputs: string[]): Promise<Float32Array[]> {
  const session = await InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'extended' });
  try {
    const r = await session.run(feeds);
    return outputs.map((name) => Float32Array.from(r[name].data as Float32Array));
  } finally {
    await session.release();
  }
}

function assertClose(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, what);
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * scale + 1e-7, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

const block = await nchwcBlockSize();
for (const [name, spec] of [
  ['cnn', initWeights(cnnSpec({ inputShape: [28, 28, 1], classes: 10 }), createRng(3))],
  ['blocked conv net', initWeights(blockedSpec, createRng(12))],
] as const) {
  test(`${name}: the NCHWc step graph matches the NCHW one (block ${block || 'none on this CPU'})`, {
    skip: block === 0,
  }, async () => {
    const gs = graphSpec(spec);
    const n = 6;
    const x = inputs(spec, n, 31);
    const t = targets(spec, n, true, 32);
    const feeds: Record<string, Tensor> = { ...stepFeeds(x, t, n, spec.inputShape, spec.classes, 1 / n) };
    // Both graphs read the same values as OHWI kernels; their meaning does not matter here.
    gs.params.forEach((p, k) => {
      feeds[STEP_IO.param(k)] = new Tensor('float32', p, gs.shapes[k]);
    });
    for (const mode of ['gradients', 'input-gradients'] as StepGraphMode[]) {
      const plain = buildStepGraph(gs, mode);
      const blocked = buildStepGraph({ ...gs, nchwcBlock: block }, mode);
      const usesNchwc = (bytes: Uint8Array) => Buffer.from(bytes).includes(NCHWC_DOMAIN);
      assert.ok(usesNchwc(blocked) && !usesNchwc(plain), 'only the blocked graph has NCHWc ops');
      const outs = mode === 'gradients' ? [STEP_IO.loss, ...gs.shapes.map((_, k) => STEP_IO.grad(k))] : [STEP_IO.dx];
      const modeFeeds =
        mode === 'gradients' ? feeds : { ...feeds, ...stepFeeds(x, t, n, spec.inputShape, spec.classes, 1 / n, 1) };
      const want = await runGraph(plain, modeFeeds, outs);
      const got = await runGraph(blocked, modeFeeds, outs);
      for (const [i, o] of outs.entries()) assertClose(got[i], want[i], `${mode} ${o}`);
    }
  });
}
