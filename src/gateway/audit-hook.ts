/**
 * @file The audit hook: every request (served or refused) becomes one AuditRecord, made durable
 * before its reply leaves. It runs in fastify's onSend, the last point where the reply can still be
 * changed. If the store cannot make the record durable, fail-closed (the default) replaces the reply
 * with 503 HEIST_ERR_AUDIT_UNAVAILABLE, so no answer ever leaves unrecorded; fail-open sends it
 * anyway and says so in the error log and the metrics.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hashRow } from '../core/hash.js';
import type { Prediction } from '../core/prediction.js';
import { row, rowCount } from '../core/tensor.js';
import type { Logger } from '../core/types.js';
import type { AuditOutput, AuditRecord, AuditRow, AuditStore } from '../store/types.js';
import type { FailMode } from './access.js';
import { errorBody } from './errors.js';
import type { GatewayMetrics } from './metrics.js';
import type { RequestState } from './request-state.js';

export interface AuditSettings {
  readonly store: AuditStore;
  readonly failMode: FailMode;
  /** Keep each input row (true) or only its hash. */
  readonly inputs: boolean;
}

function output(p: Prediction | undefined, i: number): AuditOutput | undefined {
  if (!p) return undefined;
  const k = p.scores ? p.scores.shape[1] : 0;
  return p.scores ? { label: p.labels[i], scores: p.scores.data.slice(i * k, (i + 1) * k) } : { label: p.labels[i] };
}

function rowsOf(s: RequestState, keepInputs: boolean): AuditRow[] {
  if (!s.inputs) return [];
  const n = rowCount(s.inputs);
  const rows: AuditRow[] = [];
  for (let i = 0; i < n; i++) {
    const input = row(s.inputs, i);
    rows.push({
      index: i,
      inputHash: hashRow(input),
      ...(keepInputs ? { input } : {}),
      ...(s.raw ? { raw: output(s.raw, i) } : {}),
      ...(s.served ? { served: output(s.served, i) } : {}),
    });
  }
  return rows;
}

/** The route template ("POST /v1/models/:name/predict"), never the raw URL (which may carry junk). */
function routeOf(request: FastifyRequest): string {
  const template = request.routeOptions?.url;
  return `${request.method} ${template ?? '(no route)'}`;
}

export function auditRecord(
  request: FastifyRequest,
  reply: FastifyReply,
  keepInputs: boolean,
  now: () => number,
): AuditRecord {
  const s: RequestState = request.heist ?? { startedMs: performance.now(), at: now(), flags: [], audited: true };
  const status = reply.statusCode;
  return {
    at: s.at,
    requestId: request.id,
    clientId: s.client?.id ?? 'unverified',
    ...(s.client?.tier !== undefined ? { tier: s.client.tier } : {}),
    ip: request.ip,
    route: routeOf(request),
    ...(s.model !== undefined ? { model: s.model } : {}),
    status,
    outcome: status < 400 ? 'served' : (s.code ?? 'HEIST_ERR_INTERNAL'),
    latencyMs: Math.round((performance.now() - s.startedMs) * 1000) / 1000,
    flags: s.flags,
    rows: rowsOf(s, keepInputs),
  };
}

export function installAuditHook(
  app: FastifyInstance,
  settings: AuditSettings,
  deps: { log: Logger; metrics?: GatewayMetrics; now: () => number },
): void {
  app.addHook('onSend', (request, reply, payload) => auditPayload(request, reply, payload, settings, deps));
}

/**
 * Makes the request's record durable and returns the payload to send: the reply's own, or the 503
 * body when the record cannot be made durable under fail-closed. Called from onSend, and directly
 * by the framework-error path (where fastify runs no hooks).
 */
export async function auditPayload<P>(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: P,
  settings: AuditSettings,
  deps: { log: Logger; metrics?: GatewayMetrics; now: () => number },
): Promise<P | string> {
  {
    if (request.heist && (!request.heist.audited || request.heist.recorded)) return payload;
    if (request.heist) request.heist.recorded = true;
    const record = auditRecord(request, reply, settings.inputs, deps.now);
    const t0 = performance.now();
    try {
      await settings.store.append([record]);
      deps.metrics?.observeAuditAppend((performance.now() - t0) / 1000);
      return payload;
    } catch (e) {
      deps.metrics?.auditFailure();
      if (settings.failMode === 'open') {
        deps.log.error('audit record NOT durable; reply sent anyway (audit fail-open)', {
          requestId: request.id,
          store: settings.store.url,
          err: String(e),
        });
        return payload;
      }
      deps.log.error('audit record not durable; reply replaced by 503 (audit fail-closed)', {
        requestId: request.id,
        store: settings.store.url,
        err: String(e),
      });
      reply.code(503);
      reply.header('content-type', 'application/json; charset=utf-8');
      reply.header('retry-after', '1');
      return JSON.stringify(
        errorBody('HEIST_ERR_AUDIT_UNAVAILABLE', 'the audit log cannot record this request, so it is not answered'),
      );
    }
  }
}
