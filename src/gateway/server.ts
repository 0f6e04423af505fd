/**
 * @file buildGateway(config): a fastify app serving Predictors over the heist-v1 wire format, each
 * behind its defense pipeline, with API keys and tiers, rate limits, an audit record per request
 * made durable before the reply leaves, Prometheus metrics and an OpenAPI document. It does not
 * listen (tests use inject; the CLI calls listen). Every error, from fastify or from us, leaves as
 * {"error": {code, message}}; bad input never gives a 5xx.
 *
 * Order of a request: request state -> body-bytes budget -> shutdown / key-in-URL / authentication
 * (before the body is read) -> body parsing (charset, depth scan) -> route (decode, input domain,
 * rate limits, pipeline) -> audit record (durable) -> reply.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { systemClock, type Logger } from '../core/types.js';
import { type AccessPolicy, checkPolicy } from './access.js';
import { auditPayload, installAuditHook } from './audit-hook.js';
import { installAuthHook } from './auth-hook.js';
import { installBodyParsers } from './body-parsers.js';
import { type GatewayConfig, type ResolvedGatewayConfig, parseGatewayConfig } from './config.js';
import { clientErrorHandler, installConnectionGuards } from './connection-guards.js';
import { errorBody, mapError, sendError } from './errors.js';
import type { CompletionModel } from './completions-wire.js';
import { KeyRing } from './keys.js';
import { GatewayMetrics } from './metrics.js';
import { ensureState, installRequestState } from './request-state.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerCompletionsRoute } from './routes/completions.js';
import { registerHealthRoute } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerModelRoutes } from './routes/models.js';
import { registerOpenApiRoute } from './routes/openapi.js';
import { registerPredictRoute } from './routes/predict.js';
import { type ModelTable, buildModelTable } from './served.js';

export type { GatewayConfig } from './config.js';

/** Known paths and the methods they allow, for 405 answers (HEAD comes with GET). */
const ROUTES: readonly { readonly path: RegExp; readonly allow: readonly string[]; readonly model: boolean }[] = [
  { path: /^\/healthz$/, allow: ['GET', 'HEAD'], model: false },
  { path: /^\/metrics$/, allow: ['GET', 'HEAD'], model: false },
  { path: /^\/openapi\.json$/, allow: ['GET', 'HEAD'], model: false },
  { path: /^\/v1\/models$/, allow: ['GET', 'HEAD'], model: false },
  { path: /^\/v1\/models\/[^/]*$/, allow: ['GET', 'HEAD'], model: true },
  { path: /^\/v1\/models\/[^/]*\/predict$/, allow: ['POST'], model: true },
  { path: /^\/v1\/completions$/, allow: ['POST'], model: false },
  { path: /^\/v1\/chat\/completions$/, allow: ['POST'], model: false },
  { path: /^\/admin\/keys$/, allow: ['GET', 'HEAD', 'POST'], model: false },
  { path: /^\/admin\/keys\/[^/]*$/, allow: ['DELETE'], model: false },
  { path: /^\/admin\/health$/, allow: ['GET', 'HEAD'], model: false },
  { path: /^\/admin\/audit\/verify$/, allow: ['GET', 'HEAD'], model: false },
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

/** Anyone may ask, identified by IP, with no limits: what buildGateway serves when no access policy is given. */
export function openAccess(): AccessPolicy {
  return { keys: new KeyRing(), tiers: { anonymous: {} }, anonymousTier: 'anonymous' };
}

/** The request log never carries the query string (it may hold junk or, against advice, a key). */
const serializers = {
  req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({
    method: req.method,
    url: typeof req.url === 'string' ? req.url.split('?', 1)[0] : undefined,
    remoteAddress: req.ip,
    id: req.id,
  }),
};

export function buildGateway(config: GatewayConfig, extras: GatewayExtras = {}): FastifyInstance {
  const cfg: ResolvedGatewayConfig = parseGatewayConfig(config);
  const table: ModelTable = buildModelTable(cfg.models, cfg.maxBatch);
  const clock = cfg.clock ?? systemClock;
  const access: AccessPolicy = (cfg.access as AccessPolicy | undefined) ?? openAccess();
  checkPolicy(access);
  const metrics = new GatewayMetrics();
  const auditSettings = cfg.audit;
  let closing = false;

  const app = Fastify({
    // Errors and warnings are always logged; every request only with `logger: true`.
    logger: {
      level: cfg.logger ? 'info' : 'warn',
      serializers,
      ...(cfg.logStream ? { stream: cfg.logStream } : {}),
    },
    bodyLimit: cfg.bodyLimitBytes,
    trustProxy: cfg.trustProxy,
    // Never trust a client-sent request id: defenses and audit rows key on it.
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    return503OnClosing: false,
    clientErrorHandler,
    // Malformed URLs and over-long parameters: fastify runs no hooks here, so this path sets the
    // request id and writes the audit record itself.
    frameworkErrors: (error, request, frameworkReply) => {
      const reply = frameworkReply as unknown as FastifyReply;
      ensureState(request, reply, () => clock.now());
      const m = mapError(error);
      reply.code(m.status).type('application/json; charset=utf-8');
      request.heist.code = m.code;
      const body = JSON.stringify(errorBody(m.code, m.message));
      if (!auditSettings) return void reply.send(body);
      void auditPayload(request, reply, body, auditSettings, { log, metrics, now: () => clock.now() }).then((p) =>
        reply.send(p),
      );
    },
  });
  const log: Logger = {
    info: (msg, fields) => app.log.info(fields ?? {}, msg),
    warn: (msg, fields) => app.log.warn(fields ?? {}, msg),
    error: (msg, fields) => app.log.error(fields ?? {}, msg),
  };

  installBodyParsers(app, { maxDepth: cfg.maxJsonDepth });
  // Hooks are callback style, not async: an async hook costs a promise and a microtask hop per request.
  installRequestState(app, () => clock.now());
  installConnectionGuards(app, {
    ...cfg.timeouts,
    maxConnections: cfg.maxConnections,
    maxBufferedBodyBytes: cfg.maxBufferedBodyBytes,
    bodyLimitBytes: cfg.bodyLimitBytes,
  });
  installAuthHook(app, access, { closing: () => closing, now: () => clock.now() });
  if (cfg.audit) installAuditHook(app, cfg.audit, { log, metrics, now: () => clock.now() });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(
      `${request.method} ${request.routeOptions?.url ?? '(no route)'}`,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    const code = request.heist?.code;
    if (code !== undefined && reply.statusCode >= 400) metrics.refusal(code);
    done();
  });
  app.setErrorHandler((error, request, reply) => handleError(error, request, reply));
  app.setNotFoundHandler((request, reply) => notFound(request, reply));
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onClose', async () => {
    for (const m of table.values()) await m.pipeline.close();
  });

  registerHealthRoute(app);
  registerModelRoutes(app, table);
  registerPredictRoute(app, table, { clock, access, log, metrics });
  if (extras.languageModels && extras.languageModels.length > 0)
    registerCompletionsRoute(app, extras.languageModels, { clock });
  registerAdminRoutes(app, { access, audit: cfg.audit?.store, clock, metrics, keyFile: cfg.access?.keyFile });
  registerMetricsRoute(app, { access, metrics, exposure: cfg.metrics });
  registerOpenApiRoute(app, {
    hasCompletions: (extras.languageModels ?? []).length > 0,
    hasAdmin: access.adminKeySha256 !== undefined,
    metrics: cfg.metrics,
    anonymous: access.anonymousTier !== undefined,
  });
  return app;
}
