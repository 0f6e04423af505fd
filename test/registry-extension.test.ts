/**
 * @file Adding a strategy is one file plus one registry line: the test-only `corners` strategy
 * (test/fixtures/strategies/corners.ts) is registered here, and then appears in `heist steal
 * --help`, passes the strategy conformance suite, and is refused with a clear error when
 * misconfigured, with no other file changed. The suite itself catches a broken strategy.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { stealCommand } from '../src/cli/commands/steal.js';
import { isHeistError } from '../src/core/errors.js';
import { runSteal } from '../src/runs/steal-run.js';
import { strategies } from '../src/strategies/index.js';
import type { StrategyEntry } from '../src/strategies/types.js';
import { strategyConformance } from './conformance/strategy-suite.js';
import { corners } from './fixtures/strategies/corners.js';

strategies.register(corners); // the one registry line
const out = mkdtempSync(join(tmpdir(), 'heist-ext-'));
after(() => {
  strategies.unregister('corners');
  rmSync(out, { recursive: true, force: true });
});

test('the new strategy appears in heist steal --help', () => {
  const help = stealCommand().helpInformation();
  assert.match(help.replace(/\s+/g, ' '), /corners \(test-only: corners of the input domain\)/);
});

test('the new strategy passes the strategy conformance suite', () => strategyConformance(corners));

test('a misconfigured strategy is refused with a clear error before any paid query', async () => {
  await assert.rejects(
    runSteal({
      target: 'models/digits-mlp.onnx',
      budget: 50,
      strategy: 'corners',
      strategyOptions: { pMax: 2 },
      out: join(out, 'bad'),
    }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG') && /strategy "corners": bad option pMax/.test(e.message),
  );
  await assert.rejects(
    runSteal({ target: 'models/digits-mlp.onnx', budget: 50, strategy: 'cornerz', out: join(out, 'unknown') }),
    (e: unknown) =>
      isHeistError(e, 'HEIST_ERR_BAD_CONFIG') &&
      new RegExp(`unknown strategy "cornerz" \\(known: ${strategies.names().join(', ')}\\)`).test(e.message) &&
      e.message.includes('corners'),
  );
});

test('the suite catches a strategy that proposes more rows than asked', async () => {
  const greedy: StrategyEntry = {
    ...corners,
    name: 'greedy',
    create: (o, deps) => {
      const inner = corners.create(o as { pMax: number }, deps);
      return { name: 'greedy', propose: (ctx, count) => inner.propose(ctx, count + 1) };
    },
  };
  await assert.rejects(strategyConformance(greedy), /rows for .* asked/);
});
