/**
 * @file Progress display for long runs: a cli-progress bar over paid queries on a terminal, one plain
 * line per round otherwise (CI logs, pipes).
 */
import cliProgress from 'cli-progress';
import type { StealRunHooks } from '../runs/steal-run.js';

export function createProgress(stream: NodeJS.WriteStream): { hooks: StealRunHooks; stop(): void } {
  if (!stream.isTTY) {
    return {
      hooks: {
        onRound: (r) =>
          stream.write(`round ${r.round}: ${r.queriesUsed} queries, fidelity ${r.metrics.fidelity?.toFixed(4) ?? 'n/a'}, fit ${(r.fitMs / 1000).toFixed(1)} s\n`),
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: 'steal [{bar}] {value}/{total} queries | round {round} | fidelity {fidelity} | {stage}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    hooks: {
      onStart: ({ budget }) => {
        bar.start(budget, 0, { round: 0, fidelity: '-', stage: 'buying' });
        started = true;
      },
      onFitEpoch: (e, n) => bar.update({ stage: `fitting ${e + 1}/${n}` }),
      onRound: (r) => bar.update(r.queriesUsed, { round: r.round, fidelity: r.metrics.fidelity?.toFixed(4) ?? '-', stage: 'buying' }),
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
