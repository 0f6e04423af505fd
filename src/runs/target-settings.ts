/**
 * @file The settings every paid run shares for how it talks to a target: its wire format
 * (`--format`, `--format-option`), a client-side rate limit (`--rate`), the most rows per request
 * (`--max-batch`) and the per-request timeout (`--timeout`). The last three change how answers are
 * bought, never which, so --resume accepts new values for them.
 */
import { z } from 'zod';
import { wireFormats } from '../oracle/formats/index.js';
import type { RateLimit } from '../core/rate.js';
import { isMappingFile } from './mapping-file.js';

export const targetSettingsFields = {
  /** The target's wire format (a wire-format registry key; default heist-v1) and its options. */
  format: z
    .string()
    .min(1)
    .superRefine((v, ctx) => {
      if (!wireFormats.has(v) && !isMappingFile(v)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown wire format "${v}" (known: ${wireFormats.names().join(', ')}; or a mapping file, *.yaml / *.json)`,
        });
      }
    })
    .optional(),
  formatOptions: z.record(z.string(), z.unknown()).optional(),
  rate: z
    .object({ requestsPerSecond: z.number().positive().optional(), rowsPerMinute: z.number().positive().optional() })
    .strict()
    .optional(),
  /** Most rows per upstream request (also capped by what the target declares). */
  maxBatch: z.number().int().positive().optional(),
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs: z.number().int().positive().optional(),
};

export interface TargetSettings {
  readonly format?: string;
  readonly formatOptions?: Readonly<Record<string, unknown>>;
  readonly rate?: RateLimit;
  readonly maxBatch?: number;
  readonly timeoutMs?: number;
}

/** What the HTTP oracle takes of the settings. */
export function oracleSettings(c: TargetSettings): {
  format?: string;
  formatOptions?: Readonly<Record<string, unknown>>;
  maxBatch?: number;
  timeoutMs?: number;
} {
  return {
    ...(c.format !== undefined ? { format: c.format } : {}),
    ...(c.formatOptions !== undefined ? { formatOptions: c.formatOptions } : {}),
    ...(c.maxBatch !== undefined ? { maxBatch: c.maxBatch } : {}),
    ...(c.timeoutMs !== undefined ? { timeoutMs: c.timeoutMs } : {}),
  };
}

/** What the query client takes of the settings. */
export function clientSettings(c: TargetSettings): { rate?: RateLimit; maxCallRows?: number } {
  return {
    ...(c.rate ? { rate: c.rate } : {}),
    ...(c.maxBatch !== undefined ? { maxCallRows: Math.min(256, c.maxBatch) } : {}),
  };
}
