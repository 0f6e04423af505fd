/** @file Every registered strategy through the strategy conformance suite. */
import { test } from 'node:test';
import { strategies } from '../../src/strategies/index.js';
import { strategyConformance } from './strategy-suite.js';

for (const entry of strategies.entries()) {
  test(`strategy ${entry.name} conforms`, () => strategyConformance(entry));
}
