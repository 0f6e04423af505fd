/**
 * @file Query-stream simulators shared by the detector tests in this folder (not a test file): a
 * labelled row source from a real victim, a driver that sends a stream of rows to one stage through
 * the real pipeline (one request per batch, one verified client per API key) and reports when the
 * stage first flagged it, and the attackers' query generators (JBDA-like synthetic steps, uniform
 * random inputs). Honest and natural-pool clients replay distinct rows of a Labelled source.
 */
import { join } from 'node:path';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import type { ModelInfo, Prediction, Predictor } from '../../src/core/prediction.js';
import type { createRng } from '../../src/core/rng.js';
import { type Tensor, rowSize, tensor } from '../../src/core/tensor.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { createContext, createPipeline } from '../../src/defenses/pipeline.js';
import { type Defense, DefenseRejection, type Flag } from '../../src/defenses/types.js';

export type Rng = ReturnType<typeof createRng>;

/** A labelled row source: rows plus the victim's answers for them, computed once. */
export interface Labelled {
  readonly info: ModelInfo;
  readonly rows: Float32Array;
  readonly d: number;
  readonly labels: Int32Array;
  /** The victim's probabilities, [n, classes] row-major, when it serves them. */
  readonly scores?: Float32Array;
}

export async function labelled(modelFile: string, x: Tensor): Promise<Labelled> {
  const model = await loadOnnxModel(join(modelsDir, modelFile));
  const p = await model.predict(x);
  return { info: model.info, rows: x.data, d: rowSize(x), labels: p.labels, scores: p.scores?.data };
}

/** A Labelled source made of generated queries: the victim answers them once. */
export async function answered(victim: Predictor, rows: readonly Float32Array[]): Promise<Labelled> {
  const x = stack(rows);
  const p = await victim.predict(tensor(x.data, [rows.length, ...victim.info.inputShape]));
  return { info: victim.info, rows: x.data, d: rowSize(x), labels: p.labels, scores: p.scores?.data };
}

/** Row i of a source, as a copy. */
export function rowAt(l: Labelled, i: number): Float32Array {
  return l.rows.slice(i * l.d, (i + 1) * l.d);
}

/** Stacks rows into one [n, d] tensor. */
export function stack(rows: readonly Float32Array[]): Tensor {
  const d = rows[0]?.length ?? 0;
  const all = tensor(new Float32Array(rows.length * d), [rows.length, d]);
  for (const [i, r] of rows.entries()) all.data.set(r, i * d);
  return all;
}

/** The model's answer for the `count` rows of a request that starts at stream index `start`. */
export type Answer = (start: number, count: number) => Prediction;

/** Label-only answers: `labelOf(row, stream index)`. */
export function labelAnswer(labelOf: (x: Float32Array, i: number) => number, rows: readonly Float32Array[]): Answer {
  return (start, count) => ({
    kind: 'label',
    labels: Int32Array.from({ length: count }, (_, k) => labelOf(rows[start + k]!, start + k)),
  });
}

/** Answers read off a Labelled source: stream index i is the source's row `indexOf(i)`. */
export function sourceAnswer(l: Labelled, indexOf: (i: number) => number = (i) => i): Answer {
  const k = l.info.classes;
  return (start, count) => {
    const idx = Array.from({ length: count }, (_, j) => indexOf(start + j));
    const labels = Int32Array.from(idx, (i) => l.labels[i]!);
    if (!l.scores) return { kind: 'label', labels };
    const scores = new Float32Array(count * k);
    for (const [j, i] of idx.entries()) scores.set(l.scores.subarray(i * k, (i + 1) * k), j * k);
    return { kind: 'probs', labels, scores: tensor(scores, [count, k]) };
  };
}

export interface StreamOptions {
  /** Rows per request; default 10. */
  readonly batch?: number;
  /** The stage's name in ctx.flags; default the stage's own name. */
  readonly stageName?: string;
  /** The client's tier, as an authenticating stage would set it. */
  readonly tier?: string;
  /** How many queries the stage has counted for the client (the first flag's position); default rows sent. */
  readonly queries?: () => number | undefined;
  /** Called after every served request (e.g. to read the stage's state). */
  readonly after?: () => void;
}

export interface StreamResult {
  /** Queries sent up to and including the first flagged (or refused) request; undefined when never flagged. */
  readonly firstFlag: number | undefined;
  readonly rejected: boolean;
  /** How many requests carried the stage's flag. */
  readonly flaggedRequests: number;
}

/** Sends `rows` to `stage` as client `key:<apiKey>`, one request per `batch` rows, in order. */
export async function stream(
  stage: Defense,
  info: ModelInfo,
  apiKey: string,
  rows: readonly Float32Array[],
  answer: Answer,
  options: StreamOptions = {},
): Promise<StreamResult> {
  const batch = options.batch ?? 10;
  const name = options.stageName ?? stage.name;
  const id = `key:${apiKey}`;
  const pipeline = createPipeline([stage]);
  let firstFlag: number | undefined;
  let flaggedRequests = 0;
  for (let start = 0; start < rows.length; start += batch) {
    const part = rows.slice(start, start + batch);
    const d = part[0]?.length ?? 0;
    const data = new Float32Array(part.length * d);
    for (const [i, r] of part.entries()) data.set(r, i * d);
    const ctx = createContext({
      requestId: `r${start}`,
      model: info,
      inputs: tensor(data, [part.length, ...info.inputShape]),
      at: 0,
      credentials: { apiKey, ip: '127.0.0.1' },
      client: {
        id,
        source: 'api-key',
        authenticated: true,
        ...(options.tier === undefined ? {} : { tier: options.tier }),
      },
    });
    try {
      await pipeline.run(ctx, async () => answer(start, part.length));
    } catch (e) {
      if (e instanceof DefenseRejection)
        return { firstFlag: firstFlag ?? start, rejected: true, flaggedRequests: flaggedRequests + 1 };
      throw e;
    }
    options.after?.();
    if (ctx.flags.some((g: Flag) => g.stage === name)) {
      flaggedRequests++;
      if (firstFlag === undefined) firstFlag = options.queries?.() ?? start + part.length;
    }
  }
  return { firstFlag, rejected: false, flaggedRequests };
}

/** JBDA-like queries: 10 pool seeds, then rounds adding clip(x + 0.1 * sign(random direction)) for every row so far. */
export function jbdaQueries(pool: Tensor, rng: Rng, total: number): Float32Array[] {
  const d = rowSize(pool);
  const seeds = rng.shuffle(Array.from({ length: pool.shape[0]! }, (_, i) => i)).slice(0, 10);
  let set = seeds.map((i) => pool.data.slice(i * d, (i + 1) * d));
  const queries = [...set];
  while (queries.length < total) {
    const fresh = set.map((x) =>
      Float32Array.from(x, (v) => Math.min(1, Math.max(0, v + 0.1 * (rng.next() < 0.5 ? -1 : 1)))),
    );
    queries.push(...fresh);
    set = [...set, ...fresh];
  }
  return queries.slice(0, total);
}

/** Uniform random inputs over the model's declared domain (a random-query / path-finding-style explorer). */
export function uniformQueries(info: ModelInfo, d: number, rng: Rng, total: number): Float32Array[] {
  const { min, max } = info.domain;
  return Array.from({ length: total }, () => Float32Array.from({ length: d }, () => rng.uniform(min, max)));
}

/**
 * Line searches between inputs of different classes, as in Tramer et al.'s boundary-finding attacks:
 * two random pool rows (both queried), and when the victim labels them differently, `steps`
 * bisection queries on the segment between them, each keeping the half whose ends still disagree.
 * The victim answers while the queries are made (they adapt), so a stream replays them with the same
 * answers.
 */
export async function lineSearchQueries(
  victim: Predictor,
  pool: Tensor,
  rng: Rng,
  total: number,
  steps = 8,
): Promise<Float32Array[]> {
  const d = rowSize(pool);
  const n = pool.shape[0]!;
  const queries: Float32Array[] = [];
  const ask = async (x: Float32Array): Promise<number> => {
    queries.push(x);
    return (await victim.predict(tensor(x, [1, ...victim.info.inputShape]))).labels[0]!;
  };
  while (queries.length < total) {
    const i = rng.int(n);
    const j = rng.int(n);
    let a = pool.data.slice(i * d, (i + 1) * d);
    let b = pool.data.slice(j * d, (j + 1) * d);
    const la = await ask(a);
    if ((await ask(b)) === la) continue;
    for (let s = 0; s < steps; s++) {
      const mid = Float32Array.from(a, (v, k) => (v + b[k]!) / 2);
      if ((await ask(mid)) === la) a = mid;
      else b = mid;
    }
  }
  return queries.slice(0, total);
}

/** `count` distinct indices out of [0, n), in a random order. */
export function distinctIndices(rng: Rng, n: number, count: number): number[] {
  return rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, count);
}
