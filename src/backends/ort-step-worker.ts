/**
 * @file A pool thread of step-parallel.ts. It serves one lease at a time, in the order they come:
 * it builds the gradients session from the lease's graph, then, each time its state word turns
 * GO, copies the shared weights and its rows into its own arrays (onnxruntime-node refuses shared
 * ones), runs the step, and writes the gradients and the loss back before it sets DONE. QUIT ends
 * the lease: the session is released and the thread waits for the next.
 */
import { parentPort } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { stepFeeds } from './ort-step-feeds.js';
import { STEP_IO } from './ort-train-graph.js';
import {
  CTRL,
  F64,
  type LeaseMessage,
  type LeaseReply,
  STATE,
  exchangeViews,
  spinWhile,
  weightViews,
} from './step-parallel.js';

function reply(m: LeaseReply): void {
  parentPort?.postMessage(m);
}

async function serve({ lease, data }: LeaseMessage): Promise<void> {
  const d = data.inputShape.reduce((a, b) => a * b, 1);
  const c = data.classes;
  const shared = exchangeViews(data.exchange, data.paramShapes, d, c, data.maxRows);
  const sharedWeights = weightViews(data.weights, data.paramShapes);
  const own = sharedWeights.map((w) => new Float32Array(w.length));
  const x = new Float32Array(data.maxRows * d);
  const targets = new Float32Array(data.maxRows * c);
  const feeds: Record<string, Tensor> = {};
  own.forEach((w, k) => {
    feeds[STEP_IO.param(k)] = new Tensor('float32', w, [...data.paramShapes[k]]);
  });
  const { ctrl, f64 } = shared;
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(data.graph, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'extended',
      logSeverityLevel: 3,
    });
  } catch (e) {
    reply({ lease, error: e instanceof Error ? e.message : String(e) });
    return;
  }
  reply({ lease, ready: true });
  for (;;) {
    const s = Atomics.load(ctrl, CTRL.state);
    if (s === STATE.QUIT) break;
    if (s !== STATE.GO) {
      if (!spinWhile(ctrl, s, 2)) Atomics.wait(ctrl, CTRL.state, s, 1000);
      continue;
    }
    try {
      const rows = ctrl[CTRL.rows];
      own.forEach((w, k) => {
        w.set(sharedWeights[k]);
      });
      x.set(shared.x.subarray(0, rows * d));
      targets.set(shared.targets.subarray(0, rows * c));
      const r = await session.run({ ...feeds, ...stepFeeds(x, targets, rows, data.inputShape, c, f64[F64.invN]) });
      shared.grads.forEach((g, k) => {
        g.set(r[STEP_IO.grad(k)].data as Float32Array);
      });
      f64[F64.loss] = (r[STEP_IO.loss].data as Float32Array)[0];
      // GO -> DONE only: a QUIT that came during the step stands, and ends the lease.
      Atomics.compareExchange(ctrl, CTRL.state, STATE.GO, STATE.DONE);
    } catch (e) {
      Atomics.compareExchange(ctrl, CTRL.state, STATE.GO, STATE.FAILED);
      reply({ lease, error: e instanceof Error ? e.message : String(e) });
    }
    Atomics.notify(ctrl, CTRL.state);
  }
  await session.release();
}

// One lease at a time: a lease that comes while the last is still ending waits for it.
let queue = Promise.resolve();
parentPort?.on('message', (m: LeaseMessage) => {
  queue = queue.then(() =>
    serve(m).catch((e: unknown) => reply({ lease: m.lease, error: e instanceof Error ? e.message : String(e) })),
  );
});
