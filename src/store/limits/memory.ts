/**
 * @file In-process rate-limit counters (memory://): one gateway process, no shared state. Fixed
 * windows keyed by (counter, window start); a consume checks every counter and only if all have
 * room increments all, which is atomic because it runs to completion on the one JS thread. Expired
 * windows are swept in amortised O(1) per consume (no timer, so nothing keeps the process alive).
 */
import { HeistError } from '../../core/errors.js';
import { z } from 'zod';
import type { CounterCheck, LimitDecision, LimitStore, LimitStoreEntry } from './types.js';
import { placeChecks } from './windows.js';

interface Window {
  used: number;
  /** Epoch ms at which this window ends and its counter may be dropped. */
  readonly end: number;
}

/** Sweeps never run more often than every this many consumes (small tables are not worth it). */
const MIN_SWEEP_INTERVAL = 1024;

/** `location` (whatever follows memory://) only names the store in `url`; every store is its own. */
export function memoryLimitStore(location = ''): LimitStore {
  const windows = new Map<string, Window>();
  let sinceSweep = 0;
  let closed = false;

  // Sweeping once every max(1024, size) consumes costs O(size) per sweep: amortised O(1) per consume,
  // and the table never holds more than about twice the live windows plus one interval of new ones.
  const maybeSweep = (now: number): void => {
    if (++sinceSweep < Math.max(MIN_SWEEP_INTERVAL, windows.size)) return;
    sinceSweep = 0;
    for (const [counter, w] of windows) if (w.end <= now) windows.delete(counter);
  };

  const consumeNow = (checks: readonly CounterCheck[], now: number): LimitDecision => {
    if (closed) throw new HeistError('HEIST_ERR_LIMITS_UNAVAILABLE', 'the memory:// rate-limit store is closed');
    const placed = placeChecks(checks, now);
    maybeSweep(now);
    // A counter named twice in one consume must have room for both costs together.
    const pending = new Map<string, number>();
    for (let i = 0; i < checks.length; i++) {
      const { counter, msToEnd } = placed[i];
      const used = pending.get(counter) ?? windows.get(counter)?.used ?? 0;
      if (used + checks[i].cost > checks[i].limit) return { allowed: false, violated: i, retryAfterMs: msToEnd };
      pending.set(counter, used + checks[i].cost);
    }
    const t = Math.floor(now);
    for (let i = 0; i < checks.length; i++) {
      const { counter, msToEnd } = placed[i];
      const w = windows.get(counter);
      if (w) w.used += checks[i].cost;
      else windows.set(counter, { used: checks[i].cost, end: t + msToEnd });
    }
    return { allowed: true };
  };

  return {
    url: `memory://${location}`,
    consume: async (checks, now) => consumeNow(checks, now),
    close: async () => {
      closed = true;
      windows.clear();
    },
  };
}

export const memory: LimitStoreEntry = {
  name: 'memory',
  summary: 'in-process fixed-window counters (memory://): one gateway process, forgotten on restart',
  options: z.object({ location: z.string(), timeoutMs: z.number().int().positive().optional() }).strict(),
  example: { location: '' },
  create: (o) => memoryLimitStore(o.location),
};
