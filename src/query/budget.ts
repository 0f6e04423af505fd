/**
 * @file withBudget: counts rows that really go upstream, per purpose, and refuses a call that would
 * overspend BEFORE sending any of it (HEIST_ERR_BUDGET_EXHAUSTED). Rows are reserved when a call
 * starts (so concurrent calls cannot overspend together), counted as each upstream call completes,
 * and the rest of the reservation is released when the call ends, even if it failed.
 */
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { type Tensor, rowCount } from '../core/tensor.js';
import type { Oracle, QueryPurpose } from '../oracle/types.js';
import { queryReporting } from './chunks.js';
import type { Budget, LayerQueryOptions } from './types.js';

type Pool = 'attack' | 'eval' | 'probe';

export interface BudgetOracle extends Oracle {
  /** Paid rows per purpose. */
  readonly spent: Readonly<Record<QueryPurpose, number>>;
  remaining(purpose: QueryPurpose): number;
}

function checkLimit(name: string, v: number | undefined): void {
  if (v === undefined) return;
  if (!(v === Infinity || (Number.isInteger(v) && v >= 0))) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `budget.${name} must be a non-negative integer, got ${v}`);
  }
}

/** @param initialSpent rows already paid (a resumed transcript). */
export function withBudget(
  inner: Oracle,
  budget: Budget,
  initialSpent: Partial<Record<QueryPurpose, number>> = {},
): BudgetOracle {
  const b = typeof budget === 'number' ? { attack: budget } : budget;
  checkLimit('attack', b.attack);
  checkLimit('eval', b.eval);
  checkLimit('probe', b.probe);
  const limits: Record<Pool, number> = { attack: b.attack, eval: b.eval ?? 0, probe: b.probe ?? 0 };
  const poolOf = (p: QueryPurpose): Pool => (p === 'probe' && b.probe === undefined ? 'attack' : p);
  const spent: Record<QueryPurpose, number> = {
    attack: initialSpent.attack ?? 0,
    eval: initialSpent.eval ?? 0,
    probe: initialSpent.probe ?? 0,
  };
  const reserved: Record<Pool, number> = { attack: 0, eval: 0, probe: 0 };
  const spentIn = (pool: Pool): number =>
    (Object.keys(spent) as QueryPurpose[]).filter((p) => poolOf(p) === pool).reduce((s, p) => s + spent[p], 0);
  const remaining = (purpose: QueryPurpose): number => {
    const pool = poolOf(purpose);
    return Math.max(0, limits[pool] - spentIn(pool) - reserved[pool]);
  };

  return {
    info: inner.info,
    get spent() {
      return { ...spent };
    },
    remaining,
    async query(x: Tensor, opts: LayerQueryOptions = {}): Promise<Prediction> {
      const purpose = opts.purpose ?? 'attack';
      const pool = poolOf(purpose);
      const n = rowCount(x);
      const left = remaining(purpose);
      if (n > left) {
        throw new HeistError(
          'HEIST_ERR_BUDGET_EXHAUSTED',
          `${n} ${purpose} rows asked, ${left} left in the ${pool} budget (${limits[pool]})`,
          {
            details: { purpose, pool, requested: n, remaining: left, limit: limits[pool] },
          },
        );
      }
      reserved[pool] += n;
      let outstanding = n;
      try {
        return await queryReporting(inner, x, opts, (_offset, xs) => {
          const k = Math.min(rowCount(xs), outstanding);
          spent[purpose] += rowCount(xs);
          reserved[pool] -= k;
          outstanding -= k;
        });
      } finally {
        reserved[pool] -= outstanding;
      }
    },
  };
}
