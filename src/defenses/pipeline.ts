/**
 * @file createPipeline(): sorts defense stages into per-phase arrays once, then runs
 * admit -> infer -> inspect -> transform -> record for each query. Rules: anything that can refuse
 * runs before anything is served; transforms run in list order; record always runs once the reply
 * is decided (served or rejected), cannot change it, and its errors are logged, never thrown.
 * A non-rejection error (a bug) propagates without record: no reply was decided.
 */
import { createHash } from 'node:crypto';
import { HeistError } from '../core/errors.js';
import { type ModelInfo, type Prediction, predictionRows, toLabelOnly } from '../core/prediction.js';
import { type Tensor, rowCount } from '../core/tensor.js';
import { type Awaitable, type Logger, silentLogger } from '../core/types.js';
import {
  type ClientIdentity,
  type Defense,
  DefenseRejection,
  type QueryContext,
  type QueryCredentials,
  type RequestedOutput,
  type Served,
} from './types.js';

export type Infer = (x: Tensor) => Awaitable<Prediction>;

export interface Pipeline {
  readonly stages: readonly Defense[];
  /** Some stage needs scores: the model must serve them. */
  readonly requiresScores: boolean;
  /** Some stage strips scores: clients get labels only. */
  readonly dropsScores: boolean;
  /** Resolves to the prediction to serve; rejects with the DefenseRejection, or with a bug's error. */
  run(ctx: QueryContext, infer: Infer): Promise<Prediction>;
  /** Closes every stage; errors are logged. */
  close(): Promise<void>;
}

export interface PipelineOptions {
  readonly log?: Logger;
}

/** Throws HEIST_ERR_BAD_CONFIG when a stage needing scores comes after one that drops them. */
export function checkOrder(stages: readonly Defense[]): void {
  let dropper: string | undefined;
  for (const s of stages) {
    if (s.requires?.scores && dropper !== undefined) {
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `defense "${s.name}" needs scores but comes after "${dropper}", which drops them`,
      );
    }
    if (s.dropsScores) dropper ??= s.name;
  }
}

function checkRows(p: Prediction, n: number, what: string): void {
  if (predictionRows(p) !== n || p.labels.length !== n) {
    throw new HeistError('HEIST_ERR_INTERNAL', `${what} answered ${p.labels.length} rows for a batch of ${n}`);
  }
}

export function createPipeline(stages: readonly Defense[], options: PipelineOptions = {}): Pipeline {
  checkOrder(stages);
  const log = options.log ?? silentLogger;
  const admit = stages.filter((s) => s.admit);
  const inspect = stages.filter((s) => s.inspect);
  const transform = stages.filter((s) => s.transform);
  const record = stages.filter((s) => s.record);

  async function decide(ctx: QueryContext, infer: Infer): Promise<Prediction> {
    for (const s of admit) await s.admit!(ctx);
    const n = rowCount(ctx.inputs);
    const raw = await infer(ctx.inputs);
    checkRows(raw, n, 'the model');
    ctx.raw = raw;
    for (const s of inspect) await s.inspect!(ctx);
    let out = raw;
    for (const s of transform) {
      out = await s.transform!(ctx, out);
      checkRows(out, n, `defense "${s.name}"`);
    }
    return ctx.requested === 'label' && out.kind !== 'label' ? toLabelOnly(out) : out;
  }

  return {
    stages,
    requiresScores: stages.some((s) => s.requires?.scores === true),
    dropsScores: stages.some((s) => s.dropsScores === true),
    async run(ctx, infer) {
      let served: Served;
      try {
        served = await decide(ctx, infer);
      } catch (e) {
        if (!(e instanceof DefenseRejection)) throw e;
        served = e;
      }
      for (const s of record) {
        try {
          await s.record!(ctx, served);
        } catch (err) {
          log.error('defense record failed', { stage: s.name, requestId: ctx.requestId, err: String(err) });
        }
      }
      if (served instanceof DefenseRejection) throw served;
      return served;
    },
    async close() {
      for (const s of stages) {
        try {
          await s.close?.();
        } catch (err) {
          log.error('defense close failed', { stage: s.name, err: String(err) });
        }
      }
    },
  };
}

/** The default: no stages (inference only). */
export function emptyPipeline(): Pipeline {
  return createPipeline([]);
}

export interface ContextInit {
  readonly requestId: string;
  readonly model: ModelInfo;
  readonly inputs: Tensor;
  readonly at: number;
  readonly credentials: QueryCredentials;
  readonly requested?: RequestedOutput;
  /** Defaults to the identity derived from the credentials (see provisionalClient). */
  readonly client?: ClientIdentity;
}

/** The unauthenticated identity a request starts with: a hashed API key if any, else the IP. */
export function provisionalClient(credentials: QueryCredentials): ClientIdentity {
  return credentials.apiKey !== undefined
    ? {
        id: `key:${createHash('sha256').update(credentials.apiKey).digest('hex').slice(0, 16)}`,
        source: 'api-key',
        authenticated: false,
      }
    : { id: `ip:${credentials.ip}`, source: 'ip', authenticated: false };
}

export function createContext(init: ContextInit): QueryContext {
  return {
    requestId: init.requestId,
    model: init.model,
    inputs: init.inputs,
    at: init.at,
    credentials: init.credentials,
    client: init.client ?? provisionalClient(init.credentials),
    flags: [],
    requested: init.requested ?? 'model',
  };
}
