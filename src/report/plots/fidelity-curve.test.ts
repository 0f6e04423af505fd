/** @file Tests for the fidelity curve: the spec holds the data, and it renders to real SVG in Node. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHeistError } from '../../core/errors.js';
import { sampleRunRecord } from '../sample-run.js';
import {
  curveRows,
  fidelityCurveFromRun,
  fidelityCurveSpec,
  X_TITLE,
  Y_TITLE,
  type FidelityCurveData,
} from './fidelity-curve.js';
import { renderSvg } from './render.js';

const data: FidelityCurveData = {
  points: [
    { queries: 2000, fidelity: 0.8, accuracy: 0.75 },
    { queries: 1000, fidelity: 0.6 },
  ],
  references: [
    {
      name: 'ART KnockoffNets',
      metric: 'fidelity',
      points: [
        { queries: 1000, value: 0.55 },
        { queries: 2000, value: 0.7 },
      ],
    },
  ],
};

test('the spec carries every data point, sorted by queries, with references marked', () => {
  const spec = fidelityCurveSpec(data) as unknown as {
    data: { values: unknown[] };
    encoding: Record<string, { field: string; scale?: { domain?: unknown } }>;
  };
  assert.deepEqual(spec.data.values, [
    { queries: 1000, value: 0.6, series: 'fidelity', source: 'run' },
    { queries: 2000, value: 0.8, series: 'fidelity', source: 'run' },
    { queries: 2000, value: 0.75, series: 'accuracy', source: 'run' },
    { queries: 1000, value: 0.55, series: 'ART KnockoffNets (fidelity), reference', source: 'reference' },
    { queries: 2000, value: 0.7, series: 'ART KnockoffNets (fidelity), reference', source: 'reference' },
  ]);
  assert.equal(spec.encoding.x.field, 'queries');
  assert.equal(spec.encoding.y.field, 'value');
  assert.deepEqual(spec.encoding.y.scale?.domain, [0.5, 1], 'the axis starts just below the lowest value');
});

test('fidelity is drawn last, on top of an equal accuracy; one legend, with line symbols', () => {
  const spec = fidelityCurveSpec(data) as unknown as {
    layer: { transform: { filter: string }[]; mark: { strokeWidth: number } }[];
    encoding: Record<string, { legend?: Record<string, unknown> }>;
  };
  const filters = spec.layer.map((l) => l.transform[0].filter);
  assert.match(filters[filters.length - 1], /fidelity/);
  assert.ok(spec.layer[1].mark.strokeWidth > spec.layer[2].mark.strokeWidth, 'accuracy is wider, underneath');
  assert.equal(spec.encoding.color.legend?.symbolType, 'stroke');
  assert.equal(spec.encoding.color.legend?.labelLimit, 0, 'legend labels are never cut off');
  assert.equal(spec.encoding.strokeDash, undefined, 'no second legend of identical symbols');
});

test('the spec is a pure function of its data', () => {
  assert.deepEqual(fidelityCurveSpec(data), fidelityCurveSpec(data));
  assert.equal(data.points[0].queries, 2000, 'input not mutated');
});

test('curve data from a run record uses cumulative queries per round', () => {
  const d = fidelityCurveFromRun(sampleRunRecord());
  assert.deepEqual(
    d.points.map((p) => p.queries),
    [1000, 2000, 3000],
  );
  assert.deepEqual(
    d.points.map((p) => p.fidelity),
    [0.6123, 0.8234, 0.9187],
  );
  assert.equal(curveRows(d).length, 6);
});

test('renders to SVG in Node: marks, axes titles, legend, escaped text', async () => {
  const warnings: string[] = [];
  const evil = { ...data, references: [{ name: 'x<script>alert(1)</script>', points: [{ queries: 10, value: 0.5 }] }] };
  const svg = await renderSvg(fidelityCurveSpec(evil), { onWarn: (w) => warnings.push(w) });
  assert.ok(svg.startsWith('<svg'), svg.slice(0, 80));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.match(svg, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /class="mark-line/);
  assert.match(svg, /class="mark-symbol/);
  assert.ok((svg.match(/<path /g) ?? []).length >= 5, 'has path elements');
  assert.ok(svg.includes(`>${X_TITLE}</text>`), 'x axis title');
  assert.ok(svg.includes(`>${Y_TITLE}</text>`), 'y axis title');
  assert.ok(svg.includes('>fidelity</text>') && svg.includes('>accuracy</text>'), 'legend entries');
  assert.ok(!svg.includes('<script'), 'text from data is escaped');
  assert.ok(svg.includes('&lt;script&gt;'));
  assert.deepEqual(warnings, []);
});

test('an invalid spec fails with a HeistError, not a crash', async () => {
  await assert.rejects(renderSvg({ mark: 'nonsense' } as never), (e) => isHeistError(e, 'HEIST_ERR_INTERNAL'));
});

test('an empty curve and a single point still render', async () => {
  assert.ok((await renderSvg(fidelityCurveSpec({ points: [] }))).startsWith('<svg'));
  assert.match(await renderSvg(fidelityCurveSpec({ points: [{ queries: 5, fidelity: 0.5 }] })), /class="mark-symbol/);
});
