/** @file GET /openapi.json: the API as an OpenAPI 3.1 document, generated once from the route schemas. */
import type { FastifyInstance } from 'fastify';
import { buildOpenApi } from '../openapi.js';

/** Model names and shapes stay out of it: they are for verified clients (GET /v1/models). */
export function registerOpenApiRoute(
  app: FastifyInstance,
  o: { hasCompletions: boolean; hasAdmin: boolean; metrics: 'admin' | 'public' | 'off'; anonymous: boolean },
): void {
  const doc = JSON.stringify(buildOpenApi(o));
  app.get('/openapi.json', async (_request, reply) => {
    reply.type('application/json; charset=utf-8');
    return doc;
  });
}
