/** @file The strategy registry: the `--strategy` names of `heist steal` are its keys. */
import { Registry } from '../core/registry.js';
import { dfalKCenter } from './dfal-k-center.js';
import { dfal } from './dfal.js';
import { dataFree } from './data-free.js';
import { entropyEntry } from './entropy.js';
import { jacobianAugmentation } from './jacobian-augmentation.js';
import { kCenter } from './k-center.js';
import { knockoffAdaptive } from './knockoff-adaptive.js';
import { leastConfidenceEntry } from './least-confidence.js';
import { marginEntry } from './margin.js';
import { pool } from './pool.js';
import { random } from './random.js';
import type { QueryStrategy, StrategyDeps, StrategyEntry } from './types.js';

export const strategies = new Registry<StrategyDeps, QueryStrategy, StrategyEntry>('strategy', [
  random,
  pool,
  leastConfidenceEntry,
  marginEntry,
  entropyEntry,
  kCenter,
  knockoffAdaptive,
  jacobianAugmentation,
  dfal,
  dfalKCenter,
  dataFree,
]);

export { randomStrategy } from './random.js';
export { poolStrategy } from './pool.js';
export type { BoughtRows, QueryStrategy, ProposeContext, StrategyDeps, StrategyEntry } from './types.js';
