/** @file GET /v1/models and GET /v1/models/:name: what each served model accepts and answers. */
import type { FastifyInstance } from 'fastify';
import { HeistError } from '../../core/errors.js';
import type { ModelTable } from '../served.js';

export function registerModelRoutes(app: FastifyInstance, table: ModelTable): void {
  const listing = { models: [...table.values()].map((m) => m.description) };
  app.get('/v1/models', async () => listing);
  app.get<{ Params: { name: string } }>('/v1/models/:name', async (request) => {
    const m = table.get(request.params.name);
    if (!m) throw new HeistError('HEIST_ERR_UNKNOWN_MODEL', 'no model of that name is served');
    return m.description;
  });
}
