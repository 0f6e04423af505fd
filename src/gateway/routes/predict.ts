/**
 * @file POST /v1/models/:name/predict: HTTP -> QueryContext -> pipeline.run -> heist-v1 answer.
 * Validation errors (4xx) are thrown before the pipeline; a DefenseRejection keeps its code and
 * status; any other failure in inference or a stage is a server bug: 500 HEIST_ERR_INTERNAL.
 */
import type { FastifyInstance } from 'fastify';
import { HeistError } from '../../core/errors.js';
import type { Prediction } from '../../core/prediction.js';
import type { Clock } from '../../core/types.js';
import { createContext } from '../../defenses/pipeline.js';
import { DefenseRejection } from '../../defenses/types.js';
import type { ModelTable } from '../served.js';
import { decodePredictRequest, serializePredictResponse } from '../../oracle/formats/heist-v1/index.js';

export interface PredictRouteOptions {
  readonly clock: Clock;
}

function apiKeyOf(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  return v === undefined || v === '' ? undefined : v;
}

export function registerPredictRoute(app: FastifyInstance, table: ModelTable, options: PredictRouteOptions): void {
  app.post<{ Params: { name: string } }>('/v1/models/:name/predict', async (request, reply) => {
    const m = table.get(request.params.name);
    if (!m) throw new HeistError('HEIST_ERR_UNKNOWN_MODEL', 'no model of that name is served');
    const { x, requested } = decodePredictRequest(request.body, m);
    const ctx = createContext({
      requestId: request.id,
      model: m.info,
      inputs: x,
      at: options.clock.now(),
      credentials: { apiKey: apiKeyOf(request.headers['x-api-key']), ip: request.ip },
      requested,
    });
    let served: Prediction;
    try {
      served = await m.pipeline.run(ctx, (t) => m.predictor.predict(t));
    } catch (e) {
      if (e instanceof DefenseRejection) throw e;
      throw new HeistError('HEIST_ERR_INTERNAL', 'internal error', { cause: e });
    }
    // Pre-serialized (same bytes as JSON.stringify of encodePredictResponse): fastify sends strings as is.
    reply.type('application/json; charset=utf-8');
    return serializePredictResponse(m.name, served);
  });
}
