/**
 * @file Public face of report/: the run record, the reporter registry (name -> factory; the names are
 * the `--report` values and the file names in reporters/), and `renderReport`, which re-renders
 * DIR/report.html from DIR/run.json without re-running anything (`heist report DIR/run.json`).
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Registry } from '../core/registry.js';
import { readRunRecord } from './run-record.js';
import { html, renderHtmlReport, REPORT_FILE, type HtmlReportOptions } from './reporters/html.js';
import { json } from './reporters/json.js';
import { terminal } from './reporters/terminal.js';
import type { Reporter, ReporterDeps, ReporterEntry } from './types.js';

export * from './run-record.js';
export type { Reporter, ReporterDeps, ReporterEntry, ReportStream, RunStart } from './types.js';
export {
  renderHtmlReport,
  createHtmlReporter,
  REPORT_FILE,
  escapeHtml,
  type HtmlReportOptions,
} from './reporters/html.js';
export { createJsonReporter } from './reporters/json.js';
export { createTerminalReporter, type TerminalReporterOptions } from './reporters/terminal.js';
export {
  fidelityCurveSpec,
  fidelityCurveFromRun,
  curveRows,
  type CurvePoint,
  type FidelityCurveData,
} from './plots/fidelity-curve.js';
export { renderSvg, type RenderOptions } from './plots/render.js';

/** The reporter registry: name -> entry (the names are the `--report` values and the file names in reporters/). */
export const reporters = new Registry<ReporterDeps, Reporter, ReporterEntry>('reporter', [json, html, terminal]);

/** Build reporters by name (e.g. from `--report terminal,json,html`); unknown names are HEIST_ERR_BAD_CONFIG. */
export function createReporters(names: readonly string[], deps: ReporterDeps = {}): Reporter[] {
  return names.map((name) => reporters.create(name, {}, deps));
}

/** Re-render DIR/report.html from DIR/run.json. Returns the path written. Bad run.json: HEIST_ERR_BAD_DATA. */
export async function renderReport(runJsonPath: string, opts: HtmlReportOptions = {}): Promise<string> {
  const rec = await readRunRecord(runJsonPath);
  const out = join(dirname(runJsonPath), REPORT_FILE);
  await writeFile(out, await renderHtmlReport(rec, opts), 'utf8');
  return out;
}
