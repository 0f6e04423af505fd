/**
 * @file Pieces every run record shares (steal, extract, extract-llm): its id, the target block,
 * header redaction, and the reporters that always write run.json and report.html.
 */
import type { ModelInfo } from '../core/prediction.js';
import { createHtmlReporter } from '../report/reporters/html.js';
import { createJsonReporter } from '../report/reporters/json.js';
import type { RunRecord } from '../report/run-record.js';
import type { Reporter } from '../report/types.js';

export function runId(kind: string, startedAt: Date, seed: number): string {
  return `${kind}-${startedAt.toISOString().replace(/[:.]/g, '-')}-s${seed}`;
}

/** Header names survive (so a reader sees an API key was sent); values never reach the disk. */
export function redactHeaders(
  headers: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  return headers ? Object.fromEntries(Object.keys(headers).map((k) => [k, '(redacted)'])) : undefined;
}

export function targetRecord(
  target: { readonly kind: 'url' | 'file'; readonly location: string },
  info: ModelInfo,
): RunRecord['target'] {
  return {
    ...(target.kind === 'url' ? { url: target.location } : { file: target.location }),
    model: info.name,
    inputShape: [...info.inputShape],
    classes: info.classes,
    output: info.output,
  };
}

/** The caller's live reporters, then run.json and report.html (always written). */
export function withFileReporters(live: readonly Reporter[] = []): Reporter[] {
  return [...live, createJsonReporter(), createHtmlReporter()];
}
