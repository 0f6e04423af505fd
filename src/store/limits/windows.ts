/**
 * @file The window arithmetic and input checks every limit store shares, so the in-process and the
 * Redis store agree on which window a request falls in and on how long until it ends.
 */
import { HeistError } from '../../core/errors.js';
import type { CounterCheck } from './types.js';

/** Where one check stands at `now`: the stored counter's name and the ms left in its window. */
export interface WindowedCheck {
  /** key + ':' + window start (epoch ms): one counter per window. */
  readonly counter: string;
  /** Ms from `now` to the window's end, at least 1. */
  readonly msToEnd: number;
}

const bad = (message: string): HeistError => new HeistError('HEIST_ERR_BAD_CONFIG', `rate-limit check: ${message}`);

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/**
 * Validates the checks and `now`, and places each check in its window. Windows start at multiples of
 * windowMs since the epoch (so a day window is a UTC day). Throws HEIST_ERR_BAD_CONFIG on a bad check.
 */
export function placeChecks(checks: readonly CounterCheck[], now: number): WindowedCheck[] {
  if (!Number.isFinite(now) || now < 0) throw bad(`now must be epoch ms, got ${now}`);
  const t = Math.floor(now);
  return checks.map((c, i) => {
    if (typeof c.key !== 'string' || c.key.length === 0) throw bad(`checks[${i}].key must be a non-empty string`);
    if (!Number.isSafeInteger(c.windowMs) || c.windowMs <= 0)
      throw bad(`checks[${i}].windowMs must be a positive integer, got ${c.windowMs}`);
    if (!isCount(c.limit)) throw bad(`checks[${i}].limit must be a non-negative integer, got ${c.limit}`);
    if (!isCount(c.cost)) throw bad(`checks[${i}].cost must be a non-negative integer, got ${c.cost}`);
    const start = t - (t % c.windowMs);
    return { counter: `${c.key}:${start}`, msToEnd: start + c.windowMs - t };
  });
}
