/** @file Shared fixtures for gateway tests: a small served linear model and inject helpers. */
import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createRng } from '../../src/core/rng.js';
import type { AccessPolicy } from '../../src/gateway/access.js';
import { KeyRing, issueKey } from '../../src/gateway/keys.js';
import { type LinearModel, randomLinearModel } from '../../src/models/linear.js';

export const D = 6;
export const K = 4;

export function model(seed = 7, output: 'probs' | 'label' = 'probs'): LinearModel {
  return randomLinearModel(createRng(seed), D, K, { name: 'inner-name', inputShape: [2, 3], output });
}

export function rows(n: number, seed = 3): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: D }, () => rng.next()));
}

export async function post(app: FastifyInstance, name: string, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: `/v1/models/${name}/predict`,
    payload: body as InjectOptions['payload'],
    headers,
  });
}

export function assertError(res: { statusCode: number; body: string }, status: number, code: string, label = ''): void {
  const body = JSON.parse(res.body) as { error?: { code?: string; message?: string } };
  assert.equal(res.statusCode, status, `${label}: status (body ${res.body.slice(0, 200)})`);
  assert.equal(body.error?.code, code, `${label}: code`);
  assert.equal(typeof body.error?.message, 'string', `${label}: message`);
}

/** An access policy with real keys (tier "t", no limits) and anonymous access by IP; key(name) issues one per name. */
export function keyedAccess(): { access: AccessPolicy; key(name: string): string } {
  const keys = new KeyRing();
  const issued = new Map<string, string>();
  return {
    access: { keys, tiers: { t: {} }, anonymousTier: 't' },
    key(name) {
      let k = issued.get(name);
      if (k === undefined) {
        const i = issueKey({ tier: 't', now: 0 });
        keys.put(i.record);
        k = i.key;
        issued.set(name, k);
      }
      return k;
    },
  };
}
