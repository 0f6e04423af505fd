/**
 * @file buildGateway(config): a fastify app serving Predictors over the heist-v1 wire format, each
 * behind its defense pipeline. It does not listen (tests use inject; the CLI calls listen). Every
 * error, from fastify or from us, leaves as {"error": {code, message}}; bad input never gives a 5xx.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HeistError } from '../core/errors.js';
import { systemClock } from '../core/types.js';
import { type GatewayConfig, parseGatewayConfig } from './config.js';
import { mapError, sendError } from './errors.js';
import type { CompletionModel } from './completions-wire.js';
import { registerCompletionsRoute } from './routes/completions.js';
import { registerHealthRoute } from './routes/health.js';
import { registerModelRoutes } from './routes/models.js';
import { registerPredictRoute } from './routes/predict.js';
import { type ModelTable, buildModelTable } from './served.js';

export type { GatewayConfig } from './config.js';

/** Known paths and the methods they allow, for 405 answers (HEAD comes with GET). */
const ROUTES: readonly { readonly path: RegExp; readonly allow: readonly string[]; readonly model: boolean }[] = [
  { path: /^\/healthz$/, allow: ['GET', 'HEAD'], model: false },
  { path: /^\/v1\/models$/, allow: ['GET', 'HEAD'], model: false },
  { path: /^\/v1\/models\/[^/]*$/, allow: ['GET', 'HEAD'], model: true },
  { path: /^\/v1\/models\/[^/]*\/predict$/, allow: ['POST'], model: true },
  { path: /^\/v1\/completions$/, allow: ['POST'], model: false },
];

function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?', 1)[0];
  const route = ROUTES.find((r) => r.path.test(path));
  if (route && !route.allow.includes(request.method)) {
    reply.header('allow', route.allow.join(', '));
    return sendError(reply, {
      status: 405,
      code: 'HEIST_ERR_METHOD_NOT_ALLOWED',
      message: `${request.method} is not allowed here; use ${route.allow.join(' or ')}`,
    });
  }
  if (route?.model)
    return sendError(reply, {
      status: 404,
      code: 'HEIST_ERR_UNKNOWN_MODEL',
      message: 'no model of that name is served',
    });
  return sendError(reply, { status: 404, code: 'HEIST_ERR_NOT_FOUND', message: 'no such route' });
}

function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const m = mapError(error);
  if (m.internal) request.log.error({ err: error, reqId: request.id }, 'request failed');
  return sendError(reply, m);
}

/** Optional extras beside the classifier config: language models served on POST /v1/completions. */
export interface GatewayExtras {
  readonly languageModels?: readonly CompletionModel[];
}

export function buildGateway(config: GatewayConfig, extras: GatewayExtras = {}): FastifyInstance {
  const cfg = parseGatewayConfig(config);
  const table: ModelTable = buildModelTable(cfg.models, cfg.maxBatch);
  const clock = cfg.clock ?? systemClock;

  const app = Fastify({
    logger: cfg.logger,
    bodyLimit: cfg.bodyLimitBytes,
    trustProxy: cfg.trustProxy,
    // Never trust a client-sent request id: defenses and audit rows key on it.
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    frameworkErrors: (error, request, reply) => {
      handleError(error, request, reply);
    },
  });

  // JSON only: text/plain bodies get 415 instead of reaching validation as strings. Plain
  // JSON.parse (no secure-json-parse rescans of multi-MB bodies): decode never merges objects and
  // rejects any unknown key, so a "__proto__" or "constructor" key is just a 400 HEIST_ERR_BAD_BODY.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body.length === 0) return done(new HeistError('HEIST_ERR_BAD_JSON', 'the request body is empty'), undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new HeistError('HEIST_ERR_BAD_JSON', 'the request body is not valid JSON'), undefined);
    }
  });
  // Callback style, not async: an async hook costs a promise and a microtask hop per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.setErrorHandler((error, request, reply) => handleError(error, request, reply));
  app.setNotFoundHandler((request, reply) => notFound(request, reply));
  app.addHook('onClose', async () => {
    for (const m of table.values()) await m.pipeline.close();
  });

  registerHealthRoute(app);
  registerModelRoutes(app, table);
  registerPredictRoute(app, table, { clock });
  if (extras.languageModels && extras.languageModels.length > 0)
    registerCompletionsRoute(app, extras.languageModels, { clock });
  return app;
}
