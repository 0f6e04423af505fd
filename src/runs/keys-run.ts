/**
 * @file `heist keys`: issue, list and revoke API keys in a key file (heist.keys/v1). The whole key
 * is printed once, at creation; the file keeps only its SHA-256. Gateways watching the file pick
 * changes up within a second.
 */
import { HeistError } from '../core/errors.js';
import { readKeyFile, updateKeyFile } from '../gateway/key-file.js';
import { type IssuedKey, type KeyRecord, issueKey } from '../gateway/keys.js';

export interface CreateKeyOptions {
  readonly file: string;
  readonly tier: string;
  /** Epoch ms. */
  readonly expiresAt?: number;
  readonly label?: string;
  readonly now?: number;
}

export function createKey(o: CreateKeyOptions): IssuedKey {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(o.tier))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `tier "${o.tier}": letters, digits, _ and - only (at most 40)`);
  const now = o.now ?? Date.now();
  if (o.expiresAt !== undefined && o.expiresAt <= now)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', 'the expiry is in the past');
  const issued = issueKey({
    tier: o.tier,
    now,
    ...(o.expiresAt !== undefined ? { expiresAt: o.expiresAt } : {}),
    ...(o.label !== undefined ? { label: o.label } : {}),
  });
  updateKeyFile(o.file, (keys) => [...keys, issued.record]);
  return issued;
}

export function listKeys(file: string): KeyRecord[] {
  return readKeyFile(file);
}

export function revokeKey(file: string, id: string, now = Date.now()): KeyRecord {
  let found: KeyRecord | undefined;
  updateKeyFile(file, (keys) =>
    keys.map((k) => {
      if (k.id !== id) return k;
      found = { ...k, revokedAt: k.revokedAt ?? now };
      return found;
    }),
  );
  if (!found) throw new HeistError('HEIST_ERR_BAD_CONFIG', `no key with id ${id} in ${file}`);
  return found;
}

/** "30d", "12h", "90m", or an ISO date -> epoch ms. */
export function parseExpiry(value: string, now = Date.now()): number {
  const m = /^(\d+)([dhm])$/.exec(value.trim());
  if (m) return now + Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
  const t = Date.parse(value);
  if (!Number.isFinite(t))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `expiry "${value}": use 30d, 12h, 90m or an ISO date`);
  return t;
}
