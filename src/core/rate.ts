/** @file Rate limits as a client keeps to them (query/pacing.ts) and as a target publishes them (a mapping file). */
import { HeistError } from './errors.js';

export interface RateLimit {
  /** Most upstream requests started per second. */
  readonly requestsPerSecond?: number;
  /** Most rows sent per minute. */
  readonly rowsPerMinute?: number;
}

/**
 * Reads `--rate`: comma-separated limits, each "N/s" or "N/min" (requests) or "N rows/s" or
 * "N rows/min" (rows), e.g. "20/s" or "20/s, 1200 rows/min".
 */
export function parseRate(text: string): RateLimit {
  let requestsPerSecond: number | undefined;
  let rowsPerMinute: number | undefined;
  for (const part of text.split(',')) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(rows?\s*)?\/\s*(s|sec|second|m|min|minute)\s*$/i.exec(part);
    if (!m)
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `--rate "${part.trim()}": expected N/s, N/min, N rows/s or N rows/min`,
      );
    const n = Number(m[1]);
    if (!(n > 0)) throw new HeistError('HEIST_ERR_BAD_CONFIG', `--rate "${part.trim()}": the rate must be positive`);
    const perSecond = /^s/i.test(m[3]);
    if (m[2]) rowsPerMinute = perSecond ? n * 60 : n;
    else requestsPerSecond = perSecond ? n : n / 60;
  }
  return {
    ...(requestsPerSecond !== undefined ? { requestsPerSecond } : {}),
    ...(rowsPerMinute !== undefined ? { rowsPerMinute } : {}),
  };
}
