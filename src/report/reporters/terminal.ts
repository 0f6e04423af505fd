/**
 * @file The terminal reporter: live progress while a run spends its budget. On a TTY it draws a
 * cli-progress bar (paid attack queries out of the budget, with the latest fidelity/accuracy);
 * anywhere else (pipes, CI logs, files) it prints one plain line per round. This and cli/ are the
 * only places in src/ that print, and it prints only to the stream it is given.
 */
import cliProgress from 'cli-progress';
import { fmtMs, fmtNumber, fmtScore } from '../format.js';
import type { RoundRecord, RunRecord } from '../run-record.js';
import { z } from 'zod';
import { HeistError } from '../../core/errors.js';
import type { Reporter, ReporterEntry, ReportStream, RunStart } from '../types.js';

export interface TerminalReporterOptions {
  /** Where to print, e.g. process.stderr. A live bar is drawn only when `stream.isTTY` is true. */
  readonly stream: ReportStream;
}

interface BarPayload {
  round: string;
  fidelity: string;
  accuracy: string;
}

function payload(r: RoundRecord): BarPayload {
  return { round: String(r.round), fidelity: fmtScore(r.metrics.fidelity), accuracy: fmtScore(r.metrics.accuracy) };
}

/** The plain (non-TTY) line for one round. */
export function roundLine(r: RoundRecord, budget?: number): string {
  const parts = [
    `queries ${fmtNumber(r.queriesUsed)}${budget === undefined ? '' : `/${fmtNumber(budget)}`}`,
    `labeled ${fmtNumber(r.labeledRows)}`,
  ];
  if (r.metrics.fidelity !== undefined) parts.push(`fidelity ${fmtScore(r.metrics.fidelity)}`);
  if (r.metrics.accuracy !== undefined) parts.push(`accuracy ${fmtScore(r.metrics.accuracy)}`);
  if (r.fitMs !== undefined) parts.push(`fit ${fmtMs(r.fitMs)}`);
  parts.push(`wall ${fmtMs(r.wallMs)}`);
  return `round ${r.round}: ${parts.join(', ')}\n`;
}

/** The closing summary printed by onEnd. */
export function summaryLines(run: RunRecord, outDir: string): string {
  const q = run.queries;
  return (
    `${run.kind} ${run.id} done in ${fmtMs(run.wallMs)}: fidelity ${fmtScore(run.metrics.fidelity)}, accuracy ${fmtScore(run.metrics.accuracy)}\n` +
    `queries: used ${fmtNumber(q.used)}/${fmtNumber(q.budget)}, cached ${fmtNumber(q.cached)}, eval ${fmtNumber(q.eval)}, total paid ${fmtNumber(q.total)}\n` +
    `output: ${outDir}\n`
  );
}

export function createTerminalReporter(opts: TerminalReporterOptions): Reporter {
  const { stream } = opts;
  let bar: cliProgress.SingleBar | undefined;
  let budget: number | undefined;

  const stopBar = (): void => {
    bar?.stop();
    bar = undefined;
  };

  return {
    name: 'terminal',
    onStart(run: RunStart) {
      budget = run.config.budget;
      const target = run.config.target === undefined ? '' : ` against ${run.config.target}`;
      stream.write(
        `heist ${run.kind} ${run.id}${target}${budget === undefined ? '' : `, budget ${fmtNumber(budget)} queries`}\n`,
      );
      if (stream.isTTY === true && budget !== undefined && budget > 0) {
        bar = new cliProgress.SingleBar(
          {
            stream: stream as unknown as NodeJS.WritableStream,
            format: 'round {round} |{bar}| {value}/{total} queries | fidelity {fidelity} | accuracy {accuracy}',
            hideCursor: false, // a run that dies before onEnd must not leave the cursor hidden
            clearOnComplete: false,
            stopOnComplete: false,
            fps: 10,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(budget, 0, {
          round: '-',
          fidelity: fmtScore(undefined),
          accuracy: fmtScore(undefined),
        } satisfies BarPayload);
      }
    },
    onRound(r: RoundRecord) {
      if (bar) bar.update(Math.min(r.queriesUsed, bar.getTotal()), payload(r));
      else stream.write(roundLine(r, budget));
    },
    onEnd(run: RunRecord, outDir: string) {
      if (bar) {
        bar.update(Math.min(run.queries.used, bar.getTotal()));
        stopBar();
      }
      stream.write(summaryLines(run, outDir));
    },
  };
}

export const terminal: ReporterEntry<Record<string, never>> = {
  name: 'terminal',
  summary: 'live progress on a stream: a bar on a terminal, a line per round otherwise',
  options: z.object({}).strict(),
  create: (_options, deps) => {
    if (!deps.stream)
      throw new HeistError('HEIST_ERR_BAD_CONFIG', "the 'terminal' reporter needs a stream to print to");
    return createTerminalReporter({ stream: deps.stream });
  },
};
