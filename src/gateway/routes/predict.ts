/**
 * @file POST /v1/models/:name/predict: HTTP -> decoded rows (JSON or binary float32 body) -> input
 * domain policy -> rate limits (requests and rows) -> defense pipeline -> heist-v1 answer.
 * Validation errors (4xx) are thrown before anything is counted; a DefenseRejection keeps its code
 * and status; any other failure in inference or a stage is a server bug: 500 HEIST_ERR_INTERNAL.
 * What happened is left on request.heist for the audit hook.
 */
import type { FastifyInstance } from 'fastify';
import { HeistError } from '../../core/errors.js';
import type { Prediction } from '../../core/prediction.js';
import { rowCount } from '../../core/tensor.js';
import type { Clock, Logger } from '../../core/types.js';
import { createContext } from '../../defenses/pipeline.js';
import { DefenseRejection } from '../../defenses/types.js';
import {
  type PredictRequest,
  decodeBinaryPredictRequest,
  decodePredictRequest,
  serializePredictResponse,
} from '../../oracle/formats/heist-v1/index.js';
import { type AccessPolicy, enforceLimits } from '../access.js';
import { applyDomain } from '../input-domain.js';
import type { GatewayMetrics } from '../metrics.js';
import type { ModelTable } from '../served.js';

export interface PredictRouteOptions {
  readonly clock: Clock;
  readonly access: AccessPolicy;
  readonly log: Logger;
  readonly metrics?: GatewayMetrics;
}

export function registerPredictRoute(app: FastifyInstance, table: ModelTable, options: PredictRouteOptions): void {
  app.post<{ Params: { name: string } }>('/v1/models/:name/predict', async (request, reply) => {
    const state = request.heist;
    const m = table.get(request.params.name);
    if (!m) throw new HeistError('HEIST_ERR_UNKNOWN_MODEL', 'no model of that name is served');
    state.model = m.name;
    const decoded: PredictRequest = Buffer.isBuffer(request.body)
      ? decodeBinaryPredictRequest(request.body, m, headerValue(request.headers['x-heist-output']))
      : decodePredictRequest(request.body, m);
    const { x, clipped } = applyDomain(decoded.x, m.info.domain, m.inputDomain);
    state.inputs = x;
    if (clipped) state.flags.push('domain:clipped');
    const client = state.client;
    // The auth hook runs for every /v1/ route; a request without a verified client never gets further.
    if (!client) throw new HeistError('HEIST_ERR_UNAUTHORIZED', 'this server needs an API key in the x-api-key header');
    try {
      const decision = await enforceLimits(options.access, client, rowCount(x), options.clock.now(), options.log);
      options.metrics?.limiterDecision(decision, client.tier);
    } catch (e) {
      const code = (e as HeistError).code;
      options.metrics?.limiterDecision(
        code === 'HEIST_ERR_RATE_LIMITED' ? 'limited' : 'store_unavailable',
        client.tier,
      );
      throw e;
    }
    const ctx = createContext({
      requestId: request.id,
      model: m.info,
      inputs: x,
      at: state.at,
      credentials: { ip: request.ip },
      client,
      requested: decoded.requested,
    });
    let served: Prediction;
    try {
      served = await m.pipeline.run(ctx, (t) => m.predictor.predict(t));
    } catch (e) {
      if (e instanceof DefenseRejection) throw e;
      throw new HeistError('HEIST_ERR_INTERNAL', 'internal error', { cause: e });
    } finally {
      state.raw = ctx.raw;
      for (const f of ctx.flags) {
        state.flags.push(`${f.stage}:${f.reason}`);
        options.metrics?.detectorFlag(f.stage, f.reason);
      }
    }
    state.served = served;
    options.metrics?.rowsServed(m.name, rowCount(x));
    // Pre-serialized (same bytes as JSON.stringify of encodePredictResponse): fastify sends strings as is.
    reply.type('application/json; charset=utf-8');
    return serializePredictResponse(m.name, served);
  });
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}
