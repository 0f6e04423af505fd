/**
 * @file Fidelity (and accuracy) vs paid queries as a Vega-Lite spec. A pure function of its data:
 * no I/O, no rendering (see render.ts). Run series are solid lines with points; reference series
 * (e.g. ART or paper numbers, passed in as data) are dashed. The y axis is fixed to 0..1.
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

/** The Vega-Lite spec for the curve. Deterministic: same data, same spec. */
export function fidelityCurveSpec(data: FidelityCurveData): TopLevelSpec {
  const rows = curveRows(data);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(data.title === undefined ? {} : { title: data.title }),
    width: data.width ?? 560,
    height: data.height ?? 300,
    background: 'white',
    data: { values: rows as unknown as Record<string, unknown>[] },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'queries', type: 'quantitative', title: X_TITLE, scale: { zero: true } },
      y: { field: 'value', type: 'quantitative', title: Y_TITLE, scale: { domain: [0, 1], clamp: true } },
      color: { field: 'series', type: 'nominal', title: 'Series', legend: { labelLimit: 260 } },
      strokeDash: {
        field: 'source',
        type: 'nominal',
        title: 'Source',
        scale: {
          domain: ['run', 'reference'],
          range: [
            [1, 0],
            [6, 4],
          ],
        },
      },
      detail: { field: 'series', type: 'nominal' },
    },
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
