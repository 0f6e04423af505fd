/**
 * @file The HTML report: one self-contained page (inline CSS, inline SVG plot, no scripts, no external
 * assets) rendered from a RunRecord alone, so `heist report DIR/run.json` can re-render it. Every piece
 * of text from the record is escaped; a Content-Security-Policy forbids scripts and remote loads.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ATTACK_CLASSES } from '../../eval/attack-class.js';
import { fidelityCurveFromRun, fidelityCurveSpec, curveRows } from '../plots/fidelity-curve.js';
import { renderSvg } from '../plots/render.js';
import { fmtMs, fmtNumber, fmtScore } from '../format.js';
import type { ReferenceSeries, RoundRecord, RunMetrics, RunRecord } from '../run-record.js';
import { z } from 'zod';
import type { Reporter, ReporterEntry } from '../types.js';

export const REPORT_FILE = 'report.html';

export interface HtmlReportOptions {
  /** Reference series for the plot; defaults to the record's own `references`. */
  readonly references?: readonly ReferenceSeries[];
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

function fmtValue(v: unknown): string {
  if (typeof v === 'number') return fmtNumber(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? String(v);
}

/** Metric names in display order: fidelity, accuracy, then the rest alphabetically. */
function metricNames(all: readonly RunMetrics[]): string[] {
  const names = new Set<string>();
  for (const m of all) for (const k of Object.keys(m)) names.add(k);
  const first = ['fidelity', 'accuracy'].filter((k) => names.has(k));
  return [...first, ...[...names].filter((k) => !first.includes(k)).sort()];
}

function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function card(label: string, value: string, sub?: string): string {
  const subHtml = sub === undefined ? '' : `<div class="sub">${escapeHtml(sub)}</div>`;
  return `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div>${subHtml}</div>`;
}

function headline(rec: RunRecord): string {
  const { queries, metrics, config } = rec;
  const cards = [
    card(
      'Fidelity',
      fmtScore(metrics.fidelity),
      config.targetFidelity === undefined ? undefined : `target ${fmtScore(config.targetFidelity)}`,
    ),
    card('Accuracy', fmtScore(metrics.accuracy)),
    card('Queries used', fmtNumber(queries.used), `of budget ${fmtNumber(queries.budget)}`),
    card('Cached', fmtNumber(queries.cached), 'free, not counted'),
    card('Eval queries', fmtNumber(queries.eval), 'paid, reported apart'),
    card('Total paid', fmtNumber(queries.total), 'used + eval'),
    card('Wall time', fmtMs(rec.wallMs)),
  ];
  if (config.pricePerQuery !== undefined) {
    const cur = config.currency ?? 'USD';
    cards.push(
      card(
        'Cost per query',
        `${fmtNumber(config.pricePerQuery)} ${cur}`,
        `total ${fmtNumber(config.pricePerQuery * queries.total)} ${cur}`,
      ),
    );
  }
  return `<div class="cards">${cards.join('\n')}</div>`;
}

function targetTable(rec: RunRecord): string {
  const t = rec.target;
  const rows: string[][] = [];
  if (t.url !== undefined) rows.push(['URL', t.url]);
  if (t.file !== undefined) rows.push(['File', t.file]);
  if (t.model !== undefined) rows.push(['Model', t.model]);
  rows.push(['Input shape', `[${t.inputShape.join(', ')}]`], ['Classes', String(t.classes)], ['Output', t.output]);
  return table(['Field', 'Value'], rows, 'kv');
}

function configTable(rec: RunRecord): string {
  // The seed is part of the config (one row); a record whose config lacks it still shows it once.
  const rows = Object.entries({ seed: rec.seed, ...rec.config })
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => [k, fmtValue(v)]);
  return table(['Setting', 'Value'], rows, 'kv');
}

function roundsTable(rounds: readonly RoundRecord[]): string {
  if (rounds.length === 0) return '<p class="muted">No rounds were recorded.</p>';
  const names = metricNames(rounds.map((r) => r.metrics));
  const head = ['Round', 'Queries used', 'Labeled rows', ...names, 'Fit', 'Wall'];
  const rows = rounds.map((r) => [
    String(r.round),
    fmtNumber(r.queriesUsed),
    fmtNumber(r.labeledRows),
    ...names.map((n) => (r.metrics[n] === undefined ? '—' : fmtScore(r.metrics[n]))),
    r.fitMs === undefined ? '—' : fmtMs(r.fitMs),
    fmtMs(r.wallMs),
  ]);
  return table(head, rows, 'num');
}

function otherMetrics(rec: RunRecord): string {
  const names = metricNames([rec.metrics]).filter((n) => n !== 'fidelity' && n !== 'accuracy');
  if (names.length === 0) return '';
  return `<h2>Other metrics</h2>\n${table(
    ['Metric', 'Value'],
    names.map((n) => [n, fmtNumber(rec.metrics[n] as number)]),
    'kv',
  )}`;
}

async function plot(rec: RunRecord, references: readonly ReferenceSeries[]): Promise<string> {
  const data = fidelityCurveFromRun(rec, references);
  if (curveRows(data).length === 0) return '<p class="muted">No per-round fidelity or accuracy was recorded.</p>';
  try {
    return `<figure class="plot">${await renderSvg(fidelityCurveSpec(data))}<figcaption>Fidelity and accuracy vs paid attack queries${
      references.length > 0 ? '; dashed lines are reference numbers' : ''
    }.</figcaption></figure>`;
  } catch (e) {
    return `<p class="muted">The plot could not be rendered: ${escapeHtml((e as Error).message)}</p>`;
  }
}

/** The class the run achieved, beside every class's typical fidelity range. */
function attackClassSection(rec: RunRecord): string {
  const c = rec.attackClass;
  if (!c) return '';
  const rows = ATTACK_CLASSES.map((k) => [
    `${k.name === c.name ? '▶ ' : ''}${k.name}`,
    k.meaning,
    `${k.typicalFidelity[0].toFixed(2)}-${k.typicalFidelity[1].toFixed(2)}`,
  ]);
  return `<h2>Attack class</h2>\n<p>This run is <strong>${escapeHtml(c.name)}</strong> (${escapeHtml(c.reason)}).</p>\n${table(
    ['Class', 'Meaning', 'Typical fidelity'],
    rows,
    'kv',
  )}`;
}

function listSection(title: string, items: readonly string[]): string {
  if (items.length === 0) return '';
  return `<h2>${escapeHtml(title)}</h2>\n<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
}

function artifactsSection(rec: RunRecord): string {
  const items = Object.entries(rec.artifacts).filter((e): e is [string, string] => typeof e[1] === 'string');
  if (items.length === 0) return '';
  const li = items.map(
    ([k, p]) => `<li>${escapeHtml(k)}: <a href="./${escapeHtml(encodeURI(p))}">${escapeHtml(p)}</a></li>`,
  );
  return `<h2>Artifacts</h2>\n<ul>${li.join('')}</ul>`;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
.meta,.muted,.sub,figcaption{color:#57606a;font-size:.85rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem;margin-top:1rem}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.6rem .8rem}.card .label{font-size:.8rem;color:#57606a}
.card .value{font-size:1.35rem;font-weight:600;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;font-size:.9rem;margin-top:.5rem}th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}table.num td{text-align:right;font-variant-numeric:tabular-nums}td{word-break:break-word}
figure.plot{margin:1rem 0}figure.plot svg{max-width:100%;height:auto}
`;

/** Render the full HTML page for a run. Resolves to a complete document (starts with <!doctype html>). */
export async function renderHtmlReport(rec: RunRecord, opts: HtmlReportOptions = {}): Promise<string> {
  const references = opts.references ?? rec.references ?? [];
  const name = rec.target.model ?? rec.target.url ?? rec.target.file ?? 'target';
  const title = `Heist ${rec.kind} report: ${name}`;
  const findings = (rec.findings ?? []).map((f) => JSON.stringify(f));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="heist ${escapeHtml(rec.heistVersion)}">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="meta">Run <code>${escapeHtml(rec.id)}</code> · ${escapeHtml(rec.schema)} · heist ${escapeHtml(rec.heistVersion)} · started ${escapeHtml(
    rec.startedAt,
  )} · finished ${escapeHtml(rec.finishedAt)}</div>
${headline(rec)}
<h2>Fidelity vs queries</h2>
${await plot(rec, references)}
<h2>Rounds</h2>
${roundsTable(rec.rounds)}
${otherMetrics(rec)}
${attackClassSection(rec)}
<h2>Target</h2>
${targetTable(rec)}
<h2>Configuration</h2>
${configTable(rec)}
${listSection('Findings', findings)}
${listSection('Notes', rec.notes ?? [])}
${artifactsSection(rec)}
</body>
</html>
`;
}

/** Reporter that writes OUT/report.html at the end of a run. */
export function createHtmlReporter(opts: HtmlReportOptions = {}): Reporter {
  return {
    name: 'html',
    async onEnd(run, outDir) {
      await mkdir(outDir, { recursive: true });
      await writeFile(join(outDir, REPORT_FILE), await renderHtmlReport(run, opts), 'utf8');
    },
  };
}

export const html: ReporterEntry<Record<string, never>> = {
  name: 'html',
  summary: 'OUT/report.html: a self-contained page with the fidelity curve as inline SVG',
  options: z.object({}).strict(),
  create: () => createHtmlReporter(),
};
