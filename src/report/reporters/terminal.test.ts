/** @file Tests for the terminal reporter: plain lines off a TTY, a cli-progress bar on one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleRunRecord } from '../sample-run.js';
import type { ReportStream } from '../types.js';
import { createTerminalReporter, roundLine } from './terminal.js';

function capture(isTTY: boolean): ReportStream & { text: () => string; columns: number } {
  const chunks: string[] = [];
  return {
    isTTY,
    columns: 120,
    write(chunk: string) {
      chunks.push(String(chunk));
      return true;
    },
    text: () => chunks.join(''),
  } as ReportStream & { text: () => string; columns: number };
}

async function drive(stream: ReportStream): Promise<void> {
  const run = sampleRunRecord();
  const rep = createTerminalReporter({ stream });
  await rep.onStart?.({ id: run.id, kind: run.kind, config: run.config });
  for (const r of run.rounds) await rep.onRound?.(r);
  await rep.onEnd(run, 'out/run-1');
}

test('off a TTY: one plain line per round, then a summary; no escape codes', async () => {
  const s = capture(false);
  await drive(s);
  const lines = s.text().trimEnd().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('round ')).length, 3);
  assert.ok(lines[0].includes('budget 3,000 queries'));
  assert.ok(
    s
      .text()
      .includes(
        'round 1: queries 2,000/3,000, labeled 2,000, fidelity 0.8234, accuracy 0.8011, fit 8.2 s, wall 21.0 s',
      ),
  );
  assert.ok(s.text().includes('fidelity 0.9187, accuracy 0.8876'));
  assert.ok(s.text().includes('used 3,000/3,000, cached 17, eval 500, total paid 3,500'));
  assert.ok(s.text().includes('output: out/run-1'));
  assert.ok(!s.text().includes('\u001b'), 'no ANSI escapes off a TTY');
});

test('on a TTY: draws a progress bar and stops it at the end', async () => {
  const s = capture(true);
  await drive(s);
  const out = s.text();
  assert.ok(out.includes('3000/3000 queries'), out);
  assert.ok(out.includes('fidelity'));
  assert.ok(!/^round \d+: queries/m.test(out), 'no plain round lines on a TTY');
  assert.ok(out.trimEnd().endsWith('output: out/run-1'));
});

test('roundLine omits what the round does not have', () => {
  assert.equal(
    roundLine({ round: 0, queriesUsed: 5, labeledRows: 5, metrics: {}, wallMs: 12 }),
    'round 0: queries 5, labeled 5, wall 12 ms\n',
  );
});
