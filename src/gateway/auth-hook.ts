/**
 * @file The onRequest guard of the API routes, run before any body is read (so refusing costs less
 * than serving): refuse during shutdown, refuse keys put in the URL (they end up in proxy and access
 * logs), then authenticate. OpenAI-style clients send `Authorization: Bearer <key>`; both that and
 * `x-api-key` are accepted.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HeistError } from '../core/errors.js';
import { DefenseRejection } from '../defenses/types.js';
import { type AccessPolicy, authenticate } from './access.js';

/** Query parameters that look like credentials. */
const SECRET_PARAMS =
  /(?:^|&)(?:api[-_]?key|x-api-key|key|token|access[-_]?token|auth|admin[-_]?key|password|secret)=/i;

/** Paths that need a verified client (or anonymous access): everything under /v1/. */
const isApiPath = (path: string): boolean => path.startsWith('/v1/');

export function presentedKey(request: FastifyRequest): string | undefined {
  const h = request.headers['x-api-key'];
  const v = Array.isArray(h) ? h[0] : h;
  if (v !== undefined && v !== '') return v;
  const auth = request.headers.authorization;
  if (auth !== undefined && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim() || undefined;
  return undefined;
}

export function installAuthHook(
  app: FastifyInstance,
  policy: AccessPolicy,
  state: { readonly closing: () => boolean; readonly now: () => number },
): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const q = request.url.indexOf('?');
    if (state.closing())
      return done(
        new HeistError('HEIST_ERR_SHUTTING_DOWN', 'the server is shutting down; retry on another replica', {
          status: 503,
        }),
      );
    if (q >= 0 && SECRET_PARAMS.test(request.url.slice(q + 1)))
      return done(
        new HeistError(
          'HEIST_ERR_KEY_IN_URL',
          'credentials go in the x-api-key header, never in the URL; this request was not logged with its query string',
        ),
      );
    // Both the raw path and the matched route decide: the router decodes "/%761/models" and drops
    // an absolute-form origin ("http://evil.example/v1/models"), so the raw URL alone is not enough.
    const path = q >= 0 ? request.url.slice(0, q) : request.url;
    if (!isApiPath(path) && !isApiPath(request.routeOptions.url ?? '')) return done();
    try {
      request.heist.client = authenticate(policy, presentedKey(request), request.ip, state.now());
      done();
    } catch (e) {
      done(e instanceof DefenseRejection ? e : new HeistError('HEIST_ERR_UNAUTHORIZED', 'the API key is not valid'));
    }
  });
}
