/**
 * @file A defended model is still a model: defendPredictor wraps a Predictor in a defense pipeline
 * and returns a Predictor that answers what the gateway would serve, in-process. Heist's own attacks
 * run against it to measure a defense's effect on attackers beside its cost to honest users, with no
 * HTTP in between. Every call is one request from one client (`local` unless given).
 */
import type { ModelInfo, Prediction, Predictor } from '../core/prediction.js';
import { type Tensor, rowCount } from '../core/tensor.js';
import { silentLogger } from '../core/types.js';
import { createContext, createPipeline } from './pipeline.js';
import type { Defense, Flag } from './types.js';

export interface DefendedPredictorOptions {
  /** The credentials each call is made with (per-client stages key their state on them). */
  readonly apiKey?: string;
  readonly ip?: string;
  readonly clock?: { now(): number };
  /**
   * Called after each request with the flags its stages raised (empty when none) and its row count,
   * also when the request was refused (then before the error propagates): how a bench measures
   * detection delay without a gateway or an audit log.
   */
  readonly onFlags?: (flags: readonly Flag[], rows: number) => void;
}

export interface DefendedPredictor extends Predictor {
  /** Closes the pipeline's stages (not the wrapped predictor). */
  close(): Promise<void>;
}

export function defendPredictor(
  predictor: Predictor,
  stages: readonly Defense[],
  options: DefendedPredictorOptions = {},
): DefendedPredictor {
  const pipeline = createPipeline(stages, { log: silentLogger });
  const info: ModelInfo = pipeline.dropsScores ? { ...predictor.info, output: 'label' } : predictor.info;
  let requests = 0;
  return {
    info,
    ...(predictor.acceptsMissing ? { acceptsMissing: true } : {}),
    async predict(x: Tensor): Promise<Prediction> {
      const ctx = createContext({
        requestId: `local-${++requests}`,
        model: info,
        inputs: x,
        at: (options.clock ?? Date).now(),
        credentials: { apiKey: options.apiKey, ip: options.ip ?? '127.0.0.1' },
      });
      const rows = rowCount(x);
      try {
        const out = await pipeline.run(ctx, (t) => predictor.predict(t));
        options.onFlags?.(ctx.flags, rows);
        return out;
      } catch (e) {
        options.onFlags?.(ctx.flags, rows);
        throw e;
      }
    },
    close: () => pipeline.close(),
  };
}
