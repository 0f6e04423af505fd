/**
 * @file Reader for numeric CSV tables (optionally gzip-compressed), as scikit-learn ships its small
 * data sets: numeric columns, the label in the last column, and possibly a header line.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { HeistError } from '../core/errors.js';

export interface NumericTable {
  readonly rows: number;
  readonly features: number;
  /** Row-major features, float64 (scaled later). */
  readonly x: Float64Array;
  readonly y: Int32Array;
  /** The first line when it is a scikit-learn header (n_samples, n_features, class names...). */
  readonly header?: readonly string[];
}

export function parseCsv(text: string, options: { header: boolean; source?: string }): NumericTable {
  const source = options.source ?? 'csv';
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = options.header
    ? lines
        .shift()!
        .split(',')
        .map((s) => s.trim())
    : undefined;
  if (lines.length === 0) throw new HeistError('HEIST_ERR_BAD_DATA', `${source}: no data rows`);
  const width = lines[0].split(',').length;
  const features = width - 1;
  const x = new Float64Array(lines.length * features);
  const y = new Int32Array(lines.length);
  lines.forEach((line, i) => {
    const cells = line.split(',');
    if (cells.length !== width)
      throw new HeistError(
        'HEIST_ERR_BAD_DATA',
        `${source}: line ${i + 1} has ${cells.length} cells, expected ${width}`,
      );
    for (let j = 0; j < width; j++) {
      const v = Number(cells[j]);
      if (!Number.isFinite(v))
        throw new HeistError('HEIST_ERR_BAD_DATA', `${source}: line ${i + 1}, column ${j + 1} is not a number`);
      if (j < features) x[i * features + j] = v;
      else if (!Number.isInteger(v) || v < 0)
        throw new HeistError('HEIST_ERR_BAD_DATA', `${source}: line ${i + 1} has label ${cells[j]}`);
      else y[i] = v;
    }
  });
  if (header && Number(header[0]) !== lines.length) {
    throw new HeistError('HEIST_ERR_BAD_DATA', `${source}: header says ${header[0]} rows, file has ${lines.length}`);
  }
  return { rows: lines.length, features, x, y, header };
}

export function readCsv(path: string, options: { header: boolean }): NumericTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new HeistError('HEIST_ERR_BAD_DATA', `cannot read ${path}: ${(e as Error).message}`);
  }
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  return parseCsv(text, { ...options, source: path });
}
