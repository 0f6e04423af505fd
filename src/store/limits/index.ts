/**
 * @file The rate-limit store registry, by URL scheme: memory:// (in-process), redis:// and rediss://
 * (shared by replicas). Add a backend: a file exporting a LimitStoreEntry named after its scheme, and
 * one line in the list below; test/conformance/limit-stores then tests it.
 */
import { HeistError } from '../../core/errors.js';
import { Registry } from '../../core/registry.js';
import { memory } from './memory.js';
import { redis, rediss } from './redis.js';
import type { LimitStore, LimitStoreEntry } from './types.js';
import { withoutPassword } from '../url.js';

export type { CounterCheck, LimitDecision, LimitStore, LimitStoreEntry, LimitStoreOptions } from './types.js';

export const limitStores = new Registry<undefined, LimitStore, LimitStoreEntry>('rate-limit store scheme', [
  memory,
  redis,
  rediss,
]);

export interface OpenLimitStoreOptions {
  /** Most ms one consume may wait for the store (default 200). */
  readonly timeoutMs?: number;
}

/** Opens the store a URL names, e.g. memory:// or redis://:password@10.0.0.5:6379/0. Bad URLs are HEIST_ERR_BAD_CONFIG. */
export function openLimitStore(url: string, options: OpenLimitStoreOptions = {}): LimitStore {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url);
  if (!m)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `rate-limit store URL "${withoutPassword(url)}" must look like memory:// or redis://host:port (known schemes: ${limitStores.names().join(', ')})`,
    );
  const extra = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  return limitStores.create(m[1].toLowerCase(), { location: m[2], ...extra }, undefined);
}
