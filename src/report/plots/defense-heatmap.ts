/**
 * @file The defense matrix as a Vega-Lite heatmap: x = attack, y = defense configuration, colour =
 * the attacker's fidelity, the value written in each cell. A pure function of its data (no I/O, no
 * rendering: see render.ts); axis order is the order given, not alphabetical.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface HeatmapCell {
  readonly config: string;
  readonly attack: string;
  /** 0..1; undefined when the cell has no number (it failed). */
  readonly fidelity?: number;
}

export interface DefenseHeatmapData {
  readonly configs: readonly string[];
  readonly attacks: readonly string[];
  readonly cells: readonly HeatmapCell[];
  readonly title?: string;
}

/** The spec; deterministic (same data, same spec). */
export function defenseHeatmapSpec(data: DefenseHeatmapData): TopLevelSpec {
  const values = data.cells.map((c) => ({
    config: c.config,
    attack: c.attack,
    fidelity: c.fidelity ?? null,
    label: c.fidelity === undefined ? 'n/a' : c.fidelity.toFixed(3),
  }));
  const x = { field: 'attack', type: 'nominal', sort: [...data.attacks], title: 'Attack' } as const;
  const y = { field: 'config', type: 'nominal', sort: [...data.configs], title: 'Defense configuration' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(data.title === undefined ? {} : { title: data.title }),
    width: Math.max(160, 110 * data.attacks.length),
    height: Math.max(120, 26 * data.configs.length),
    background: 'white',
    data: { values },
    encoding: { x: { ...x, axis: { labelAngle: 0 } }, y },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'fidelity',
            type: 'quantitative',
            title: 'Attacker fidelity',
            scale: { domain: [0, 1], scheme: 'viridis' },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 12 },
        encoding: {
          text: { field: 'label', type: 'nominal' },
          color: { condition: { test: 'datum.fidelity > 0.6', value: 'black' }, value: 'white' },
        },
      },
    ],
    config: { font: 'sans-serif', axis: { labelLimit: 240 } },
  };
}
