/**
 * @file Fidelity (and accuracy) vs paid queries as a Vega-Lite spec. A pure function of its data:
 * no I/O, no rendering (see render.ts). Three layers, drawn in this order: reference series (e.g.
 * ART or paper numbers, passed in as data) as dashed lines, the run's accuracy as a wide pale line
 * with squares, and the run's fidelity as a narrow line with circles on top, so that equal fidelity
 * and accuracy both stay visible. The y axis runs from just below the lowest value (a multiple of
 * 0.05) to 1, so curves near 1 are not squeezed into the top tenth. One legend (the series, with
 * line symbols, never truncated); reference series are named "..., reference".
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ReferenceSeries, RunRecord } from '../run-record.js';

export interface CurvePoint {
  /** Cumulative paid attack queries. */
  readonly queries: number;
  readonly fidelity?: number;
  readonly accuracy?: number;
}

export interface FidelityCurveData {
  readonly points: readonly CurvePoint[];
  readonly references?: readonly ReferenceSeries[];
  readonly title?: string;
  readonly width?: number;
  readonly height?: number;
}

/** One row of the long-format table the spec plots. */
export interface CurveRow {
  readonly queries: number;
  readonly value: number;
  readonly series: string;
  readonly source: 'run' | 'reference';
}

export const X_TITLE = 'Queries (paid, attack)';
export const Y_TITLE = 'Score (0 to 1)';

/** Flatten run points and references into long-format rows (the spec's inline data). */
export function curveRows(data: FidelityCurveData): CurveRow[] {
  const rows: CurveRow[] = [];
  const sorted = [...data.points].sort((a, b) => a.queries - b.queries);
  for (const metric of ['fidelity', 'accuracy'] as const) {
    for (const p of sorted) {
      const v = p[metric];
      if (v !== undefined && Number.isFinite(v))
        rows.push({ queries: p.queries, value: v, series: metric, source: 'run' });
    }
  }
  for (const ref of data.references ?? []) {
    const series = ref.metric ? `${ref.name} (${ref.metric})` : ref.name;
    for (const p of [...ref.points].sort((a, b) => a.queries - b.queries)) {
      rows.push({ queries: p.queries, value: p.value, series, source: 'reference' });
    }
  }
  return rows;
}

/** The y axis' lower end: just below the lowest value, a multiple of 0.05 (0 without data). */
export function yFloor(rows: readonly CurveRow[]): number {
  if (rows.length === 0) return 0;
  const min = Math.min(...rows.map((r) => r.value));
  return Math.max(0, Math.min(0.95, Math.floor((min - 0.01) * 20) / 20));
}

/** The Vega-Lite spec for the curve. Deterministic: same data, same spec. */
export function fidelityCurveSpec(data: FidelityCurveData): TopLevelSpec {
  const rows = curveRows(data).map((r) => (r.source === 'reference' ? { ...r, series: `${r.series}, reference` } : r));
  const only = (source: string, series?: string) => ({
    filter:
      series === undefined
        ? `datum.source === '${source}'`
        : `datum.source === '${source}' && datum.series === '${series}'`,
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(data.title === undefined ? {} : { title: data.title }),
    width: data.width ?? 560,
    height: data.height ?? 300,
    background: 'white',
    data: { values: rows as unknown as Record<string, unknown>[] },
    encoding: {
      x: { field: 'queries', type: 'quantitative', title: X_TITLE, scale: { zero: true } },
      y: {
        field: 'value',
        type: 'quantitative',
        title: Y_TITLE,
        scale: { domain: [yFloor(rows), 1], clamp: true, zero: false },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: 'Series',
        legend: { labelLimit: 0, symbolType: 'stroke', symbolStrokeWidth: 3, orient: 'bottom', columns: 1 },
      },
    },
    layer: [
      {
        transform: [only('reference')],
        mark: { type: 'line', strokeDash: [6, 4], strokeWidth: 2, point: { filled: true, size: 30 } },
      },
      {
        transform: [only('run', 'accuracy')],
        mark: { type: 'line', strokeWidth: 6, opacity: 0.45, point: { shape: 'square', size: 90, opacity: 0.6 } },
      },
      {
        transform: [only('run', 'fidelity')],
        mark: { type: 'line', strokeWidth: 2, point: { shape: 'circle', filled: true, size: 45 } },
      },
    ],
    config: { font: 'sans-serif' },
  };
}

/** Curve data from a run record: one point per round that has fidelity or accuracy. */
export function fidelityCurveFromRun(
  rec: RunRecord,
  references: readonly ReferenceSeries[] = rec.references ?? [],
): FidelityCurveData {
  const points = rec.rounds
    .filter((r) => r.metrics.fidelity !== undefined || r.metrics.accuracy !== undefined)
    .map((r) => ({ queries: r.queriesUsed, fidelity: r.metrics.fidelity, accuracy: r.metrics.accuracy }));
  return { points, references };
}
