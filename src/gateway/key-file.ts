/**
 * @file The key file (`heist.keys/v1` JSON): key records with hashed secrets, written atomically
 * (temp file + rename) by `heist keys` and by the admin routes, and watched by every gateway that
 * uses it, so a key created or revoked on one replica takes effect on the others within a second.
 */
import { readFileSync, renameSync, watchFile, unwatchFile, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { KeyRecord } from './keys.js';

const recordSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  tier: z.string().min(1),
  secretSha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.number().int(),
  expiresAt: z.number().int().optional(),
  revokedAt: z.number().int().optional(),
  label: z.string().max(200).optional(),
});

const fileSchema = z.strictObject({
  version: z.literal('heist.keys/v1'),
  keys: z.array(recordSchema),
});

/** Reads the key file; a missing file is an empty key table. */
export function readKeyFile(path: string): KeyRecord[] {
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `key file ${path} is not JSON: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(parsed);
  if (!r.success) throw new HeistError('HEIST_ERR_BAD_CONFIG', `key file ${path}: ${z.prettifyError(r.error)}`);
  const ids = new Set<string>();
  for (const k of r.data.keys) {
    if (ids.has(k.id)) throw new HeistError('HEIST_ERR_BAD_CONFIG', `key file ${path}: duplicate key id ${k.id}`);
    ids.add(k.id);
  }
  return r.data.keys;
}

export function writeKeyFile(path: string, keys: readonly KeyRecord[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 'heist.keys/v1', keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Read-modify-write of the key file (the caller's change sees the file's latest content). */
export function updateKeyFile(path: string, change: (keys: KeyRecord[]) => KeyRecord[]): KeyRecord[] {
  const next = change(readKeyFile(path));
  writeKeyFile(path, next);
  return next;
}

/** Calls `onChange` with the new records whenever the file changes; returns the stop function. */
export function watchKeyFile(
  path: string,
  onChange: (keys: KeyRecord[]) => void,
  onError: (e: unknown) => void,
  intervalMs = 1000,
): () => void {
  const listener = (): void => {
    try {
      onChange(readKeyFile(path));
    } catch (e) {
      // A half-edited or broken file keeps the previous table in force.
      onError(e);
    }
  };
  // watchFile (stat polling) survives the rename that replaces the file; fs.watch would lose it.
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(path, listener);
}
