/**
 * @file The per-cell file store of `heist bench defenses`: one JSON file per cell under <out>/cells/,
 * named <config>__<attack>.json, written atomically, and reused only when its key (what made its
 * numbers) equals the wanted one; a folder computed with other settings is refused (HEIST_ERR_RESUME).
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeistError } from '../core/errors.js';
import type { GridConfig } from './defense-grid.js';

export const CELL_SCHEMA = 'heist.defense-matrix-cell/v1';

/** What makes a cell's numbers: a cell file is reused only when its key equals the wanted one. */
export interface CellKey {
  readonly scenario: string;
  readonly budget: number;
  readonly seed: number;
  readonly arch: string | null;
  readonly config: GridConfig;
  readonly attack: string;
}

export interface CellFile<R> {
  readonly schema: typeof CELL_SCHEMA;
  readonly key: CellKey;
  readonly result: R;
  readonly wallMs: number;
}

export const cellFileName = (config: string, attack: string): string => `${config}__${attack}.json`;

/** JSON with object keys sorted: keys compare equal whatever order a grid file wrote options in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes a finished cell's file (atomically) and returns what it wrote. */
export function writeCell<R>(path: string, key: CellKey, result: R, wallMs: number): CellFile<R> {
  const file: CellFile<R> = { schema: CELL_SCHEMA, key, result, wallMs };
  writeAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
  return file;
}

/**
 * Every cell file already in the folder must have been computed with these scenario, budget, seed
 * and arch (else HEIST_ERR_RESUME: another run's numbers would be mixed in).
 */
export function checkCellFolder(
  cellsDir: string,
  wanted: Pick<CellKey, 'scenario' | 'budget' | 'seed' | 'arch'>,
): void {
  if (!existsSync(cellsDir)) return;
  for (const f of readdirSync(cellsDir).filter((n) => n.endsWith('.json'))) {
    const key = readCell(join(cellsDir, f))?.key;
    if (!key) continue;
    for (const k of ['scenario', 'budget', 'seed', 'arch'] as const) {
      if (key[k] !== wanted[k])
        throw new HeistError(
          'HEIST_ERR_RESUME',
          `${join(cellsDir, f)} was computed with ${k} ${JSON.stringify(key[k])}, not ${JSON.stringify(wanted[k])}: ` +
            'use another --out, or delete that folder',
        );
    }
  }
}

function readCell<R>(path: string): CellFile<R> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as CellFile<R>;
    return c.schema === CELL_SCHEMA ? c : undefined;
  } catch {
    return undefined; // a torn or foreign file: recomputed (writes are atomic, so only a foreign one)
  }
}

/** The cell's stored result when its key matches; HEIST_ERR_RESUME when the file holds another cell. */
export function reuse<R>(path: string, key: CellKey): CellFile<R> | undefined {
  const c = readCell<R>(path);
  if (!c) return undefined;
  if (canonical(c.key) !== canonical(key))
    throw new HeistError(
      'HEIST_ERR_RESUME',
      `${path} holds configuration "${key.config.name}" with other defenses or options than the grid's: ` +
        'use another --out, or delete that file',
    );
  return c;
}
