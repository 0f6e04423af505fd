/**
 * @file The admin surface, behind its own key (x-admin-key, or Authorization: Bearer): issue, list
 * and revoke API keys, health details, and a verification of the audit chain. Without a configured
 * admin key these routes do not exist (404), so they reveal nothing. Key changes are written to the
 * key file, which the other replicas watch.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HeistError } from '../../core/errors.js';
import type { Clock } from '../../core/types.js';
import type { AuditStore } from '../../store/types.js';
import { type AccessPolicy, isAdmin } from '../access.js';
import { updateKeyFile } from '../key-file.js';
import { type KeyRecord, issueKey } from '../keys.js';
import type { GatewayMetrics } from '../metrics.js';
import { createKeyRequestSchema } from '../openapi-schemas.js';

export interface AdminRouteOptions {
  readonly access: AccessPolicy;
  readonly audit?: AuditStore;
  readonly clock: Clock;
  readonly metrics: GatewayMetrics;
  readonly keyFile?: string;
}

/** What the admin API shows of a key: never its digest. */
export function publicKeyRecord(r: KeyRecord): Omit<KeyRecord, 'secretSha256'> {
  const { secretSha256: _digest, ...rest } = r;
  return rest;
}

export function adminKeyOf(request: FastifyRequest): string | undefined {
  const h = request.headers['x-admin-key'];
  const v = Array.isArray(h) ? h[0] : h;
  if (v !== undefined && v !== '') return v;
  const auth = request.headers.authorization;
  return auth !== undefined && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : undefined;
}

/** Throws 401 unless the request carries the admin key; marks the audit record as the admin's. */
export function requireAdmin(access: AccessPolicy, request: FastifyRequest): void {
  if (!isAdmin(access, adminKeyOf(request)))
    throw new HeistError('HEIST_ERR_UNAUTHORIZED', 'this route needs the admin key in the x-admin-key header');
  request.heist.client = { id: 'admin', source: 'api-key', authenticated: true, tier: 'admin' };
}

export function registerAdminRoutes(app: FastifyInstance, o: AdminRouteOptions): void {
  if (o.access.adminKeySha256 === undefined) return;
  const { access } = o;
  app.get('/admin/keys', async (request) => {
    requireAdmin(access, request);
    return { keys: access.keys.records().map(publicKeyRecord) };
  });
  app.post('/admin/keys', async (request, reply) => {
    requireAdmin(access, request);
    const r = createKeyRequestSchema.safeParse(request.body);
    if (!r.success) throw new HeistError('HEIST_ERR_BAD_BODY', `bad key request: ${z.prettifyError(r.error)}`);
    if (!access.tiers[r.data.tier])
      throw new HeistError(
        'HEIST_ERR_BAD_BODY',
        `unknown tier "${r.data.tier}" (tiers: ${Object.keys(access.tiers).join(', ')})`,
      );
    const issued = issueKey({ ...r.data, now: o.clock.now() });
    if (o.keyFile) updateKeyFile(o.keyFile, (keys) => [...keys, issued.record]);
    access.keys.put(issued.record);
    reply.code(201);
    return { key: issued.key, ...publicKeyRecord(issued.record) };
  });
  app.delete<{ Params: { id: string } }>('/admin/keys/:id', async (request) => {
    requireAdmin(access, request);
    const id = request.params.id;
    const now = o.clock.now();
    if (!access.keys.get(id)) throw new HeistError('HEIST_ERR_NOT_FOUND', 'no key with that id');
    if (o.keyFile)
      updateKeyFile(o.keyFile, (keys) => keys.map((k) => (k.id === id ? { ...k, revokedAt: k.revokedAt ?? now } : k)));
    const revoked = access.keys.revoke(id, now)!;
    return publicKeyRecord(revoked);
  });
  app.get('/admin/health', async (request) => {
    requireAdmin(access, request);
    return {
      status: 'ok',
      uptimeSeconds: Math.round(process.uptime()),
      keys: access.keys.size,
      tiers: Object.keys(access.tiers),
      anonymous: access.anonymousTier !== undefined,
      audit: o.audit ? { url: o.audit.url, log: o.audit.log } : null,
      limiter: access.limiter ? { url: access.limiter.store.url, failMode: access.limiter.failMode } : null,
    };
  });
  app.get('/admin/audit/verify', async (request) => {
    requireAdmin(access, request);
    if (!o.audit) throw new HeistError('HEIST_ERR_NOT_FOUND', 'this server keeps no audit log');
    return o.audit.verify();
  });
}
