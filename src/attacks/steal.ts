/**
 * @file The learning-based extraction loop: propose -> query -> fit -> evaluate, round by round,
 * until the budget is spent or the target fidelity is reached. This is the only code that spends
 * attack budget. Each round refits a fresh substitute (seeded per round) on everything bought so far,
 * or with a warm start trains the previous round's on, so a run is a pure function of its seed and
 * the target's answers: a resumed run that replays its transcript ends with the same metrics.
 * @see T. Orekondy, B. Schiele, M. Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019, arXiv:1812.02766.
 * @see F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943.
 */
import { HeistError } from '../core/errors.js';
import type { ModelInfo } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import { rowCount } from '../core/tensor.js';
import type { Clock } from '../core/types.js';
import { systemClock } from '../core/types.js';
import { type EvaluationSet, evaluateSubstitute } from '../eval/evaluate.js';
import type { Oracle } from '../oracle/types.js';
import type { Arch, ArchOptions, Surrogate } from '../surrogates/types.js';
import { BoughtSet } from './bought-set.js';
import type { BoughtRows } from '../strategies/types.js';
import { type StealPlan, epochsFor, isCheckedPlan } from './plan.js';

export interface RoundResult {
  readonly round: number;
  /** Paid attack queries after this round (cached rows not included). */
  readonly queriesUsed: number;
  readonly labeledRows: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly epochs: number;
  readonly fitMs: number;
  readonly wallMs: number;
}

export interface StealDeps {
  /** The query client (budget, cache, transcript), sized by plan.budget. */
  readonly client: Oracle;
  readonly info: ModelInfo;
  readonly createSurrogate: (arch: Arch, options: ArchOptions, rng: Rng) => Promise<Surrogate>;
  /**
   * The held-out set, or a function that buys it. steal() calls the function once, when the first
   * fit starts: its queries then overlap that fit instead of delaying the first round, and they do
   * not take the client's concurrency slots from the first round's attack queries.
   */
  readonly evaluation?: EvaluationSet | (() => Promise<EvaluationSet>);
  readonly clock?: Clock;
  readonly onRound?: (r: RoundResult) => void;
  readonly onFitEpoch?: (epoch: number, epochs: number) => void;
}

export interface StealResult {
  readonly substitute: Surrogate;
  readonly rounds: readonly RoundResult[];
  readonly labeledRows: number;
  readonly stoppedBy: 'budget' | 'target-fidelity' | 'strategy-exhausted';
  /** The held-out set the rounds were measured on; undefined without one, or when no fit ran. */
  readonly evaluation?: EvaluationSet;
}

export async function steal(plan: StealPlan, deps: StealDeps, rng: Rng): Promise<StealResult> {
  if (!isCheckedPlan(plan))
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      'steal() runs plans made by planSteal(), which checks them against the target',
    );
  const clock = deps.clock ?? systemClock;
  const start = clock.now();
  const strategyRng = rng.fork('strategy');
  const bought = new BoughtSet();
  const rounds: RoundResult[] = [];
  let substitute: Surrogate | undefined;
  let stoppedBy: StealResult['stoppedBy'] = 'budget';
  let spent = 0;
  let latest: BoughtRows | undefined;
  const source = deps.evaluation;
  let evaluation: Promise<EvaluationSet> | undefined;

  try {
    for (const [round, checkpoint] of plan.checkpoints.entries()) {
      // Sized by rows obtained, not by the client's remaining budget: on --resume the rows bought before
      // the kill come back free from the transcript, and must still count towards each checkpoint.
      const want = checkpoint - spent;
      // The strategy sees last round's substitute and what was bought; both are pure functions of the
      // seed and the target's answers, so a resumed run re-proposes the same rows. A strategy that
      // learns from each batch (batchRows) is asked in batches, each bought before the next call.
      const before = bought.size > 0 ? bought.toTrainingSet() : undefined;
      let got = 0;
      while (got < want) {
        const x = await plan.strategy.propose(
          {
            info: deps.info,
            round,
            bought: bought.size,
            rng: strategyRng,
            ...(substitute ? { substitute } : {}),
            ...(before ? { boughtRows: before } : {}),
            ...(latest ? { latest } : {}),
          },
          Math.min(want - got, plan.strategy.batchRows ?? want - got),
        );
        if (rowCount(x) === 0) break;
        const answer = await deps.client.query(x, { purpose: 'attack' });
        bought.add(x, answer, plan.labels === 'soft');
        latest = {
          x,
          labels: answer.labels,
          ...(plan.labels === 'soft' && answer.scores ? { soft: answer.scores } : {}),
        };
        got += rowCount(x);
        if (plan.strategy.batchRows === undefined) break;
      }
      spent += got;
      if (got === 0) {
        stoppedBy = 'strategy-exhausted';
        break;
      }

      const fitStart = clock.now();
      if (source && !evaluation) {
        evaluation = typeof source === 'function' ? source() : Promise.resolve(source);
        // Awaited after the fit; until then a failure must not surface as an unhandled rejection.
        evaluation.catch(() => undefined);
      }
      // Warm start: the previous round's substitute trains on, from its own weights.
      const next =
        plan.warmStart && substitute
          ? substitute
          : await deps.createSurrogate(plan.arch, plan.archOptions, rng.fork(`init-${round}`));
      const epochs = epochsFor(plan.fit, bought.size);
      await next.fit(bought.toTrainingSet(), {
        loss: plan.labels,
        epochs,
        batchSize: plan.fit.batchSize,
        learningRate: plan.fit.learningRate,
        schedule: plan.fit.schedule,
        shiftAugment: plan.fit.shiftAugment,
        temperature: plan.fit.temperature,
        labelSmoothing: plan.fit.labelSmoothing,
        rng: rng.fork(`fit-${round}`),
        onEpoch: deps.onFitEpoch ? (e) => deps.onFitEpoch!(e, epochs) : undefined,
      });
      if (substitute !== next) substitute?.dispose();
      substitute = next;
      const fitMs = clock.now() - fitStart;

      const metrics: Record<string, number> = {};
      if (evaluation) {
        const r = await evaluateSubstitute(substitute, await evaluation);
        metrics.fidelity = r.fidelity;
        if (r.accuracy !== undefined) metrics.accuracy = r.accuracy;
      }
      const result: RoundResult = {
        round,
        queriesUsed: spent,
        labeledRows: bought.size,
        metrics,
        epochs,
        fitMs,
        wallMs: clock.now() - start,
      };
      rounds.push(result);
      deps.onRound?.(result);
      if (
        plan.targetFidelity !== undefined &&
        metrics.fidelity !== undefined &&
        metrics.fidelity >= plan.targetFidelity
      ) {
        stoppedBy = 'target-fidelity';
        break;
      }
    }
  } finally {
    // Whatever failed, no evaluation query is still in flight when steal() returns: the caller
    // closes the client (and its transcript) next, and a paid answer must land on disk first.
    await evaluation?.catch(() => undefined);
  }
  if (!substitute) {
    throw new HeistError(
      'HEIST_ERR_BUDGET_EXHAUSTED',
      'no attack budget left: nothing was bought, so there is no substitute',
    );
  }
  return {
    substitute,
    rounds,
    labeledRows: bought.size,
    stoppedBy,
    ...(evaluation ? { evaluation: await evaluation } : {}),
  };
}
