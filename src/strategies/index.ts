/** @file The strategy registry: the `--strategy` names of `heist steal` are its keys. */
import { Registry } from '../core/registry.js';
import { pool } from './pool.js';
import { random } from './random.js';
import type { QueryStrategy, StrategyDeps, StrategyEntry } from './types.js';

export const strategies = new Registry<StrategyDeps, QueryStrategy, StrategyEntry>('strategy', [random, pool]);

export { randomStrategy } from './random.js';
export { poolStrategy } from './pool.js';
export type { QueryStrategy, ProposeContext, StrategyDeps, StrategyEntry } from './types.js';
