/**
 * @file The settings every paid run shares for how it talks to a target: a client-side rate limit
 * (`--rate`), the most rows per request (`--max-batch`) and the per-request timeout (`--timeout`).
 * They change how answers are bought, never which, so --resume accepts new values.
 */
import { z } from 'zod';
import type { RateLimit } from '../query/pacing.js';

export const pacingFields = {
  rate: z
    .object({ requestsPerSecond: z.number().positive().optional(), rowsPerMinute: z.number().positive().optional() })
    .strict()
    .optional(),
  /** Most rows per upstream request (also capped by what the target declares). */
  maxBatch: z.number().int().positive().optional(),
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs: z.number().int().positive().optional(),
};

export interface PacingSettings {
  readonly rate?: RateLimit;
  readonly maxBatch?: number;
  readonly timeoutMs?: number;
}

/** What the HTTP oracle takes of the settings. */
export function targetPacing(c: PacingSettings): { maxBatch?: number; timeoutMs?: number } {
  return {
    ...(c.maxBatch !== undefined ? { maxBatch: c.maxBatch } : {}),
    ...(c.timeoutMs !== undefined ? { timeoutMs: c.timeoutMs } : {}),
  };
}

/** What the query client takes of the settings. */
export function clientPacing(c: PacingSettings): { rate?: RateLimit; maxCallRows?: number } {
  return {
    ...(c.rate ? { rate: c.rate } : {}),
    ...(c.maxBatch !== undefined ? { maxCallRows: Math.min(256, c.maxBatch) } : {}),
  };
}
