/** @file Registry of query strategies: the CLI's --strategy names are these keys. */
export { randomStrategy } from './random.js';
export { poolStrategy } from './pool.js';
export type { QueryStrategy, ProposeContext } from './types.js';

export const strategyNames = ['random', 'pool'] as const;
export type StrategyName = (typeof strategyNames)[number];
