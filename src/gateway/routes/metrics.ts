/** @file GET /metrics: Prometheus text format, behind the admin key unless configured public (off: 404). */
import type { FastifyInstance } from 'fastify';
import type { AccessPolicy } from '../access.js';
import type { GatewayMetrics } from '../metrics.js';
import { requireAdmin } from './admin.js';

export type MetricsExposure = 'admin' | 'public' | 'off';

export function registerMetricsRoute(
  app: FastifyInstance,
  o: { access: AccessPolicy; metrics: GatewayMetrics; exposure: MetricsExposure },
): void {
  if (o.exposure === 'off' || (o.exposure === 'admin' && o.access.adminKeySha256 === undefined)) return;
  app.get('/metrics', async (request, reply) => {
    if (o.exposure === 'admin') requireAdmin(o.access, request);
    reply.type(o.metrics.contentType);
    return o.metrics.render();
  });
}
