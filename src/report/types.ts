/**
 * @file Report role types. A Reporter receives a run's lifecycle (Vitest style: every hook optional
 * except onEnd). To add a report format: write src/report/reporters/<name>.ts exporting a
 * ReporterEntry, and add one line to the registry in src/report/index.ts; test/conformance/reporters
 * then tests it.
 */
import type { RegistryEntry } from '../core/registry.js';
import type { Awaitable } from '../core/types.js';
import type { RoundRecord, RunRecord } from './run-record.js';

export type {
  ReferenceSeries,
  RoundRecord,
  RunConfig,
  RunKind,
  RunMetrics,
  RunRecord,
  RunTarget,
} from './run-record.js';

/** What a reporter learns when a run starts (before any query is bought). */
export type RunStart = Pick<RunRecord, 'id' | 'kind' | 'config'>;

export interface Reporter {
  readonly name: string;
  onStart?(run: RunStart): Awaitable<void>;
  /** Live progress after each round (terminal). */
  onRound?(round: RoundRecord): Awaitable<void>;
  /** The finished run; file reporters write into outDir. */
  onEnd(run: RunRecord, outDir: string): Awaitable<void>;
}

/** A writable text stream; `isTTY` decides between a live bar and plain lines. */
export interface ReportStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

/** What the composition root (cli/) hands to reporter factories. */
export interface ReporterDeps {
  /** Where the terminal reporter prints (e.g. process.stderr). Required only by 'terminal'. */
  readonly stream?: ReportStream;
}

export type ReporterEntry<O = unknown> = RegistryEntry<O, ReporterDeps, Reporter>;
