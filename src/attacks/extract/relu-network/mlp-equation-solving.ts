/**
 * @file Equation solving for a one-hidden-layer MLP (Tramèr et al. §4.1, "Multilayer perceptrons").
 * An MLP's probabilities are not linear in its parameters, so the d h + h + h k + k unknowns
 * (1,510 for a 64-20-10 net) are solved for numerically: buy the probability answers on uniform
 * random inputs (by default sparse ones, see `queries`) and fit the MLP's outputs to the answers
 * (float64, L-BFGS to convergence). The paper minimises the cross-entropy; the default here is the
 * least-squares form of the same equations (centred logits against centred log-probabilities, see
 * MlpLoss), which converged to a far closer copy in our measurements (bench/mlp-equation-solving.ts). Each answer gives k - 1 equations,
 * so budgets of 1-3x the unknowns overdetermine the system. The hidden width is the attacker's
 * assumption about the architecture (the paper assumes it known); the activation is ReLU, as the
 * networks Heist serves (NetworkSpec has no tanh). The result is a NetworkSpec, exported as ONNX.
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.1 (MLP: 99.89% test agreement from 4,450 queries for 2,225 unknowns).
 */
import { HeistError } from '../../../core/errors.js';
import { inputSize, type ModelInfo } from '../../../core/prediction.js';
import { tensor } from '../../../core/tensor.js';
import type { NetworkSpec } from '../../../models/network-spec.js';
import { networkPredictor } from '../../../models/network.js';
import type { Oracle } from '../../../oracle/types.js';
import { designRows } from '../solvers/design-rows.js';
import { fitMlp, type MlpLoss, mlpUnknowns } from '../solvers/mlp-fit.js';
import { sparseRows } from '../solvers/sparse-rows.js';
import { type ExtractOptions, type ExtractResult, type Extractor, extractorEntry } from '../types.js';
import { z } from 'zod';

export interface MlpEquationSolvingOptions {
  /** Hidden width assumed for the target (default 20). */
  readonly hidden?: number;
  /** Seeded starts; the lowest-loss fit is kept (default 1). */
  readonly restarts?: number;
  /** L-BFGS iterations per start (default 3000). */
  readonly maxIterations?: number;
  /**
   * Query rows: 'uniform' (the paper's), or 'sparse' (default): uniform rows with a random share of
   * values at the domain minimum (sparse-rows.ts). Uniform rows leave some hidden units always on
   * (a 64-20-10 digits MLP has 6 of 20 active on every uniform row but not on every digit): such
   * units act linearly on the queries, so their own weights are not determined by the answers.
   */
  readonly queries?: 'uniform' | 'sparse';
  /** The loss minimised (see MlpLoss); default 'logits'. */
  readonly loss?: MlpLoss;
}

/** The extracted spec in the target's input shape (a flatten first when the shape has several axes). */
function shaped(spec: NetworkSpec, info: ModelInfo): NetworkSpec {
  if (info.inputShape.length === 1) return spec;
  return { ...spec, inputShape: [...info.inputShape], layers: [{ type: 'flatten' }, ...spec.layers] };
}

export function mlpEquationSolving(options: MlpEquationSolvingOptions = {}): Extractor {
  const h = options.hidden ?? 20;
  if (!Number.isInteger(h) || h < 1)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `mlp-equation-solving: hidden width must be a positive integer, got ${h}`,
    );
  const unknowns = (info: ModelInfo): number => mlpUnknowns({ d: inputSize(info), h, k: info.classes });
  return {
    name: 'mlp-equation-solving',
    paper:
      'Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.1 (MLP)',
    description: `one-hidden-layer ReLU MLP (${h} hidden units) solved from probability answers on sparse random inputs: log-ratio equations fitted by L-BFGS (default budget: its unknowns)`,
    requires: { output: ['probs'] },
    minQueries: (info) => Math.ceil(unknowns(info) / (info.classes - 1)),
    defaultBudget: unknowns,
    async extract(client: Oracle, opts: ExtractOptions): Promise<ExtractResult> {
      const info = client.info;
      const d = inputSize(info);
      const k = info.classes;
      const n = opts.budget ?? unknowns(info);
      if (n < 1) throw new HeistError('HEIST_ERR_BAD_CONFIG', `mlp-equation-solving needs a positive budget, got ${n}`);
      const queries = options.queries ?? 'sparse';
      const loss = options.loss ?? 'logits';
      const x =
        queries === 'sparse'
          ? sparseRows(info, n, opts.rng.fork('queries'))
          : designRows(info, n, opts.design ?? 'uniform', opts.rng.fork('queries'));
      const answer = await client.query(tensor(x, [n, d]), { purpose: 'attack' });
      if (answer.kind !== 'probs' || !answer.scores || answer.scores.data.length !== n * k) {
        throw new HeistError(
          'HEIST_ERR_REQUIREMENTS',
          `mlp-equation-solving needs ${k} probabilities per row, but "${info.name}" answered ${answer.kind}`,
        );
      }
      const soft = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < k; c++) s += Math.max(0, answer.scores.data[i * k + c]);
        for (let c = 0; c < k; c++) soft[i * k + c] = s > 0 ? Math.max(0, answer.scores.data[i * k + c]) / s : 1 / k;
      }
      const fit = fitMlp(
        x,
        soft,
        n,
        { d, h, k },
        {
          rng: opts.rng.fork('fit'),
          loss,
          restarts: options.restarts ?? 1,
          maxIterations: options.maxIterations ?? 3000,
        },
      );
      const spec = shaped(fit.spec, info);
      const model = networkPredictor(spec, { ...info, name: `extracted-${info.name}`, output: 'probs' });
      const total = unknowns(info);
      return {
        model,
        queriesUsed: n,
        notes: [
          `MLP equation solving: ${d}-${h}-${k} ReLU network, ${total} unknowns, ${n} ${queries} queries (${(n / total).toFixed(2)}x), ${n * (k - 1)} independent equations`,
          `${loss === 'logits' ? "squared error of centred logits against the answers' centred log-probabilities" : 'cross-entropy against the answers'} ` +
            `minimised by L-BFGS in float64 (${fit.restartLosses.length} start(s), ${fit.iterations} iterations); final loss ${fit.loss.toExponential(2)}`,
        ],
        spec,
        diagnostics: { unknowns: total, fitLoss: fit.loss, fitIterations: fit.iterations },
      };
    },
  };
}

export const mlpEquationSolvingDefault = mlpEquationSolving();

export const mlpEquationSolvingEntry = extractorEntry(
  'relu-network',
  z
    .object({
      hidden: z.number().int().positive().optional(),
      restarts: z.number().int().positive().optional(),
      maxIterations: z.number().int().positive().optional(),
      queries: z.enum(['uniform', 'sparse']).optional(),
      loss: z.enum(['logits', 'cross-entropy']).optional(),
    })
    .strict(),
  (o) => mlpEquationSolving(o),
);
