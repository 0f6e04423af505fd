/**
 * @file Fidelity versus paid queries for several query strategies, as a Vega-Lite spec: one line
 * per strategy through the mean over seeds, over a pale band from the lowest to the highest seed.
 * A pure function of its data (see render.ts for rendering). The y axis starts just below the
 * lowest band value, as in fidelity-curve.ts, so curves near 1 stay apart.
 */
import type { TopLevelSpec } from 'vega-lite';
import { X_TITLE } from './fidelity-curve.js';

export interface StrategyCurveSeries {
  readonly strategy: string;
  readonly points: readonly { queries: number; mean: number; min: number; max: number }[];
}

export function strategyCurvesSpec(series: readonly StrategyCurveSeries[], title?: string): TopLevelSpec {
  const rows = series.flatMap((s) =>
    s.points.map((p) => ({ strategy: s.strategy, queries: p.queries, mean: p.mean, min: p.min, max: p.max })),
  );
  const low = rows.length > 0 ? Math.min(...rows.map((r) => r.min)) : 0;
  const floor = Math.max(0, Math.min(0.95, Math.floor((low - 0.01) * 20) / 20));
  const y = { type: 'quantitative' as const, scale: { domain: [floor, 1], clamp: true, zero: false } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(title === undefined ? {} : { title }),
    width: 560,
    height: 320,
    background: 'white',
    data: { values: rows },
    encoding: {
      x: { field: 'queries', type: 'quantitative', title: X_TITLE, scale: { zero: true } },
      color: {
        field: 'strategy',
        type: 'nominal',
        title: 'Strategy',
        legend: { labelLimit: 0, symbolType: 'stroke', symbolStrokeWidth: 3, orient: 'bottom', columns: 3 },
      },
    },
    // The lines come first: the legend draws its symbols from the first layer, and the band's pale
    // fill would make pale symbols. The band is translucent, so the lines still show through it.
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2, point: { filled: true, size: 35 } },
        encoding: { y: { ...y, field: 'mean', title: 'Fidelity (0 to 1)' } },
      },
      {
        mark: { type: 'area', opacity: 0.15 },
        encoding: { y: { ...y, field: 'min', title: 'Fidelity (0 to 1)' }, y2: { field: 'max' } },
      },
    ],
    config: { font: 'sans-serif' },
  };
}
