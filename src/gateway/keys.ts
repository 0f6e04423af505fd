/**
 * @file API keys: issue, verify, revoke. A key reads `hk_<id>_<secret>`: the id (public, 12 hex
 * digits) finds the record in a Map (O(1)); the secret (32 random bytes, base64url) is checked by
 * comparing SHA-256 digests with crypto.timingSafeEqual (constant time). Only the digest is stored.
 * SHA-256 rather than a slow password hash is deliberate: the secret carries 256 bits of entropy, so
 * there is nothing for a slow hash to protect against, and verification stays on the hot path.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HeistError } from '../core/errors.js';

export interface KeyRecord {
  /** Public id, 12 hex digits; audit records and limits name the client by it. */
  readonly id: string;
  readonly tier: string;
  /** Hex SHA-256 of the secret part. */
  readonly secretSha256: string;
  readonly createdAt: number;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
  /** Free text for the owner ("acme staging"); never a secret. */
  readonly label?: string;
}

export interface IssuedKey {
  /** The whole key, shown once: `hk_<id>_<secret>`. */
  readonly key: string;
  readonly record: KeyRecord;
}

export type KeyCheck =
  | { readonly ok: true; readonly record: KeyRecord }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

const KEY_FORMAT = /^hk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** A fresh key for a tier; `random` is for tests (crypto.randomBytes by default). */
export function issueKey(
  init: { tier: string; now: number; expiresAt?: number; label?: string },
  random: (n: number) => Buffer = randomBytes,
): IssuedKey {
  const id = random(6).toString('hex');
  const secret = random(32).toString('base64url');
  const record: KeyRecord = {
    id,
    tier: init.tier,
    secretSha256: sha256(secret).toString('hex'),
    createdAt: init.now,
    ...(init.expiresAt !== undefined ? { expiresAt: init.expiresAt } : {}),
    ...(init.label !== undefined ? { label: init.label } : {}),
  };
  return { key: `hk_${id}_${secret}`, record };
}

/** The in-memory key table the gateway checks every request against. */
export class KeyRing {
  readonly #byId = new Map<string, KeyRecord>();
  readonly #digests = new Map<string, Buffer>();

  constructor(records: readonly KeyRecord[] = []) {
    for (const r of records) this.put(r);
  }

  put(record: KeyRecord): void {
    if (!/^[0-9a-f]{12}$/.test(record.id) || !/^[0-9a-f]{64}$/.test(record.secretSha256))
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `key record "${record.id}" is malformed`);
    this.#byId.set(record.id, record);
    this.#digests.set(record.id, Buffer.from(record.secretSha256, 'hex'));
  }

  get(id: string): KeyRecord | undefined {
    return this.#byId.get(id);
  }

  records(): KeyRecord[] {
    return [...this.#byId.values()];
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Marks a key revoked (kept, so audit records still resolve); false when unknown. */
  revoke(id: string, now: number): KeyRecord | undefined {
    const r = this.#byId.get(id);
    if (!r) return undefined;
    const revoked = { ...r, revokedAt: r.revokedAt ?? now };
    this.put(revoked);
    return revoked;
  }

  /** Replaces the whole table (a reloaded key file). */
  replace(records: readonly KeyRecord[]): void {
    this.#byId.clear();
    this.#digests.clear();
    for (const r of records) this.put(r);
  }

  check(key: string, now: number): KeyCheck {
    const m = KEY_FORMAT.exec(key);
    if (!m) return { ok: false, reason: 'malformed' };
    const record = this.#byId.get(m[1]);
    const want = this.#digests.get(m[1]);
    // Hash even for unknown ids, so the time taken does not tell known ids from unknown ones.
    const got = sha256(m[2]);
    if (!record || !want) return { ok: false, reason: 'unknown' };
    if (!timingSafeEqual(got, want)) return { ok: false, reason: 'unknown' };
    if (record.revokedAt !== undefined && record.revokedAt <= now) return { ok: false, reason: 'revoked' };
    if (record.expiresAt !== undefined && record.expiresAt <= now) return { ok: false, reason: 'expired' };
    return { ok: true, record };
  }
}

/** Constant-time comparison of a presented secret (e.g. the admin key) with its expected SHA-256. */
export function secretMatches(presented: string, expectedSha256: Buffer): boolean {
  return timingSafeEqual(sha256(presented), expectedSha256);
}

export function secretDigest(secret: string): Buffer {
  return sha256(secret);
}
