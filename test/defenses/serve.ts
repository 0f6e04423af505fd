/**
 * Shared by the defense tests in this folder (not a test file): serve a batch of probability rows
 * through one stage in the real pipeline, as the gateway would.
 */
import { type Prediction, probsPrediction } from '../../src/core/prediction.js';
import { tensor } from '../../src/core/tensor.js';
import { silentLogger } from '../../src/core/types.js';
import { createContext, createPipeline } from '../../src/defenses/pipeline.js';
import type { Defense, DefenseDeps, RequestedOutput } from '../../src/defenses/types.js';

export const testDeps: DefenseDeps = {
  clock: { now: () => 1_700_000_000_000, sleep: async () => {} },
  log: silentLogger,
  secret: Buffer.from('defense-tests-secret-0123456789'),
};

export interface ServeOptions {
  /** The input rows the scores answer ([n, d]); default one distinct 2-value row per score row. */
  readonly inputs?: readonly (readonly number[])[];
  /** The model's labels; default the argmax of each row. */
  readonly labels?: readonly number[];
  readonly requested?: RequestedOutput;
}

/** Serves `rows` (the model's probabilities, one array per row) through `stage`. */
export async function serveRows(
  stage: Defense,
  rows: readonly (readonly number[])[],
  options: ServeOptions = {},
): Promise<Prediction> {
  const k = rows[0]?.length ?? 0;
  const inputs = options.inputs ?? rows.map((_, i) => [i, i + 0.5]);
  const d = inputs[0]?.length ?? 0;
  const raw = probsPrediction(tensor(rows.flat(), [rows.length, k]));
  const model: Prediction = options.labels ? { ...raw, labels: Int32Array.from(options.labels) } : raw;
  const ctx = createContext({
    requestId: 'test',
    model: { name: 't', inputShape: [d], classes: k, output: 'probs', domain: { min: -1e9, max: 1e9 } },
    inputs: tensor(inputs.flat(), [inputs.length, d]),
    at: 0,
    credentials: { ip: '127.0.0.1' },
    requested: options.requested,
  });
  return createPipeline([stage], { log: silentLogger }).run(ctx, () => model);
}

/** Row i of a prediction's scores as plain numbers. */
export function scoresRow(p: Prediction, i: number): number[] {
  const k = p.scores!.shape[1]!;
  return Array.from(p.scores!.data.subarray(i * k, (i + 1) * k));
}

/** True when `actual` has the length of `expected` and every value is within `tol` of it. */
export function near(actual: readonly number[], expected: readonly number[], tol: number): boolean {
  return actual.length === expected.length && actual.every((v, j) => Math.abs(v - expected[j]) <= tol);
}
