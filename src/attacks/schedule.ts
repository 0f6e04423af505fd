/**
 * @file Round schedules: the cumulative query counts at which a steal refits and evaluates its
 * substitute (its checkpoints; the last is the budget). A strategy that learns from answers (uncertainty
 * sampling, k-center, the adaptive bandit) chooses again at every checkpoint, so the schedule is
 * part of a method, not only of its report.
 * - `standard`: the standard budgets below the budget, then the budget (the curves of docs/scenarios.md);
 * - `fixed:N`: every N queries;
 * - `doubling:N`: N, 2N, 4N, ...;
 * - `rounds:K`: K equal rounds (the last takes the remainder).
 */
import { HeistError } from '../core/errors.js';

export type Schedule =
  | { readonly kind: 'standard' }
  | { readonly kind: 'fixed'; readonly every: number }
  | { readonly kind: 'doubling'; readonly first: number }
  | { readonly kind: 'rounds'; readonly rounds: number };

/** The standard budgets of docs/scenarios.md. */
const LADDER = [50, 100, 250, 500, 1000, 2000, 3000, 5000, 10000, 20000, 50000, 100000];

export const scheduleSyntax = 'standard | fixed:N | doubling:N | rounds:K';

export function parseSchedule(text: string): Schedule {
  if (text === 'standard') return { kind: 'standard' };
  const m = /^(fixed|doubling|rounds):([1-9]\d*)$/.exec(text);
  if (!m) throw new HeistError('HEIST_ERR_BAD_CONFIG', `schedule "${text}": expected ${scheduleSyntax}`);
  const n = Number(m[2]);
  if (m[1] === 'fixed') return { kind: 'fixed', every: n };
  if (m[1] === 'doubling') return { kind: 'doubling', first: n };
  return { kind: 'rounds', rounds: n };
}

export function scheduleText(s: Schedule): string {
  if (s.kind === 'standard') return 'standard';
  if (s.kind === 'fixed') return `fixed:${s.every}`;
  if (s.kind === 'doubling') return `doubling:${s.first}`;
  return `rounds:${s.rounds}`;
}

/** Increasing checkpoints ending at the budget. */
export function scheduleCheckpoints(s: Schedule, budget: number): number[] {
  const out: number[] = [];
  if (s.kind === 'standard') out.push(...LADDER.filter((b) => b < budget));
  else if (s.kind === 'fixed') for (let q = s.every; q < budget; q += s.every) out.push(q);
  else if (s.kind === 'doubling') for (let q = s.first; q < budget; q *= 2) out.push(q);
  else
    for (let k = 1; k < s.rounds; k++) {
      const q = Math.floor((budget * k) / s.rounds);
      if (q > 0 && q > (out[out.length - 1] ?? 0)) out.push(q);
    }
  out.push(budget);
  return out;
}
