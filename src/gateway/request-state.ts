/**
 * @file What the gateway learns about a request as it passes through, read by the audit hook once
 * the reply is decided: who asked, for which model, what came in, what the model said, what was
 * served, and which error code (if any) went back.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HeistErrorCode } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import type { Tensor } from '../core/tensor.js';
import type { Verified } from './access.js';

export interface RequestState {
  /** performance.now() at arrival, for latency. */
  readonly startedMs: number;
  /** Epoch ms at arrival (the gateway's clock). */
  readonly at: number;
  client?: Verified;
  model?: string;
  /** The decoded inputs (after any domain clipping). */
  inputs?: Tensor;
  raw?: Prediction;
  served?: Prediction;
  /** Set by sendError: the code of the refusal that went back. */
  code?: HeistErrorCode;
  flags: string[];
  /** False for routes that are not audited (health, metrics, the OpenAPI document). */
  audited: boolean;
  /** Set once the audit record is written (so no path writes it twice). */
  recorded?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    heist: RequestState;
  }
}

/** Routes whose requests are not audit records: liveness, scraping and the API document. */
const UNAUDITED = new Set(['/healthz', '/metrics', '/openapi.json']);

export function installRequestState(app: FastifyInstance, now: () => number): void {
  app.decorateRequest('heist', null as unknown as RequestState);
  // First hook of all: every later refusal (401, 400, 503) already carries the request id.
  app.addHook('onRequest', (request, reply, done) => {
    ensureState(request, reply, now);
    done();
  });
}

/** The request's state, created on first use (fastify's framework-error path skips onRequest). */
export function ensureState(request: FastifyRequest, reply: FastifyReply, now: () => number): RequestState {
  if (!request.heist) {
    const path = request.url.split('?', 1)[0];
    request.heist = { startedMs: performance.now(), at: now(), flags: [], audited: !UNAUDITED.has(path) };
    reply.header('x-request-id', request.id);
  }
  return request.heist;
}

export function stateOf(request: FastifyRequest): RequestState | undefined {
  return request.heist ?? undefined;
}
