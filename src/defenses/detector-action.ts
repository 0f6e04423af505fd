/**
 * @file What a detector does once it suspects a client, shared by every detector stage: `flag`
 * (the default) notes the verdict on the request, `degrade` also serves that client's answers
 * through a weaker-for-attackers transform stage (`degradeTo`, label-only unless configured), and
 * `block` refuses with 403 HEIST_ERR_FORBIDDEN. Whatever the action, the verdict goes into
 * ctx.flags as `{ stage, reason }` with reason `suspected-extraction`, `degraded` or `blocked`, so it
 * reaches the audit record (`stage:reason`) and the gateway's `heist_detector_flags_total` metric,
 * a refused request included. A detector declares the phases inspect and transform; its transform
 * passes answers through unchanged unless this request was marked `degraded`. The degrade stage must
 * be a transform-only stage that keeps top-1 labels (label-only, top-k, round, high-confidence,
 * mad-argmax, ...), so that a detector never changes a label: the registry entry says
 * `changesLabels: false` whatever its options.
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import type { Awaitable } from '../core/types.js';
import { type Defense, type DefenseDeps, DefenseRejection, type DefenseSpec, type QueryContext } from './types.js';

export const detectorActions = ['flag', 'degrade', 'block'] as const;
export type DetectorAction = (typeof detectorActions)[number];

/** The reason a verdict is recorded with, per action. */
export const verdictReasons: Readonly<Record<DetectorAction, string>> = {
  flag: 'suspected-extraction',
  degrade: 'degraded',
  block: 'blocked',
};

export interface DetectorActionOptions {
  /** What a suspected client gets; default 'flag'. */
  readonly action?: DetectorAction;
  /** The stage a degraded client's answers go through; default label-only. Only with action 'degrade'. */
  readonly degradeTo?: DefenseSpec;
}

/** The zod fields every detector's options schema spreads in. */
export const detectorActionFields = {
  action: z.enum(detectorActions).optional(),
  degradeTo: z
    .object({ name: z.string().min(1), options: z.unknown().optional() })
    .strict()
    .optional(),
};

export interface DetectorVerdict {
  readonly action: DetectorAction;
  /** True when the degrade stage needs the model's scores. */
  readonly requiresScores: boolean;
  /**
   * For inspect: records the verdict on a suspected client's request (flag or degrade) or refuses it
   * (block: throws DefenseRejection after recording). Does nothing when `suspected` is false.
   */
  apply(ctx: QueryContext, suspected: boolean, score?: number): void;
  /** The detector's transform: the degrade stage's answer for a request apply() marked, else `out`. */
  transform(ctx: QueryContext, out: Prediction): Awaitable<Prediction>;
}

/** Builds the verdict logic of detector `stage`; the degrade stage comes from `deps.createStage`. */
export function detectorVerdict(stage: string, options: DetectorActionOptions, deps: DefenseDeps): DetectorVerdict {
  const action = options.action ?? 'flag';
  if (options.degradeTo !== undefined && action !== 'degrade')
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `${stage}: degradeTo is only used with action "degrade"`);
  let degrade: Defense | undefined;
  if (action === 'degrade') {
    const spec = options.degradeTo ?? { name: 'label-only' };
    if (!deps.createStage)
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `${stage}: action "degrade" needs the defense registry (build stages with createDefenses)`,
      );
    const built = deps.createStage(spec);
    const phases = built.phases.join(',');
    if (phases !== 'transform' || built.changesLabels)
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `${stage}: degradeTo "${spec.name}" must be a transform-only stage that keeps top-1 labels ` +
          '(e.g. label-only, top-k, round, mad-argmax)',
      );
    degrade = built.stage;
  }
  const reason = verdictReasons[action];
  const degradeStage = degrade;
  return {
    action,
    requiresScores: degradeStage?.requires?.scores === true,
    apply(ctx, suspected, score) {
      if (!suspected) return;
      ctx.flags.push(score === undefined ? { stage, reason } : { stage, reason, score });
      if (action === 'block')
        throw new DefenseRejection('HEIST_ERR_FORBIDDEN', `${stage}: this client is suspected of model extraction`);
    },
    transform(ctx, out) {
      if (!degradeStage?.transform || !ctx.flags.some((f) => f.stage === stage && f.reason === reason)) return out;
      return degradeStage.transform(ctx, out);
    },
  };
}

/** The Defense fields a detector takes from its verdict (spread them into the stage object). */
export function detectorPhases(v: DetectorVerdict): Pick<Defense, 'transform' | 'requires'> {
  return {
    transform: (ctx, out) => v.transform(ctx, out),
    ...(v.requiresScores ? { requires: { scores: true } } : {}),
  };
}
