/**
 * @file Plain numbers before anything is spent: what a run will buy (attack budget, evaluation
 * rows, the total), at what price when one is known, and what the user should know first (the
 * attack pool overlapping the evaluation rows; no evaluation set, so no fidelity). The CLI prints it
 * and, on a terminal, asks before going on (`--yes` skips the question); library callers get it
 * through the `confirm` hook.
 */
import { existsSync } from 'node:fs';
import { loadOnnxModel } from '../backends/onnx-model.js';
import type { Dataset } from '../core/dataset.js';
import { hashRow } from '../core/hash.js';
import { row, rowCount } from '../core/tensor.js';
import { scenarios, victimModelPath } from '../datasets/scenarios.js';
import type { EvaluationSet } from '../eval/evaluate.js';

export interface CostSummary {
  readonly kind: 'steal' | 'extract' | 'transfer';
  readonly target: string;
  readonly attackQueries: number;
  /** Rows bought to measure fidelity, counted apart from the attack budget. */
  readonly evalQueries: number;
  readonly totalQueries: number;
  readonly pricePerQuery?: number;
  readonly estimatedCost?: number;
  readonly warnings: readonly string[];
}

/** Resolves to go on; rejects (or throws) to stop before anything is bought. */
export type Confirm = (summary: CostSummary) => Promise<void>;

export function costSummary(s: Omit<CostSummary, 'totalQueries' | 'estimatedCost'>): CostSummary {
  const totalQueries = s.attackQueries + s.evalQueries;
  return {
    ...s,
    totalQueries,
    ...(s.pricePerQuery !== undefined ? { estimatedCost: s.pricePerQuery * totalQueries } : {}),
  };
}

export function formatSummary(s: CostSummary): string {
  const price =
    s.pricePerQuery !== undefined
      ? ` at ${s.pricePerQuery} a query = ${s.estimatedCost?.toFixed(4)}`
      : ' (no price given: --price)';
  return [
    `${s.kind} ${s.target}: up to ${s.attackQueries} attack queries + ${s.evalQueries} evaluation queries = ${s.totalQueries} paid rows${price}`,
    ...s.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

/** How many rows of `a` also appear (byte for byte) in `b`. */
export function overlappingRows(a: Dataset, b: Dataset): number {
  const seen = new Set<string>();
  for (let i = 0; i < rowCount(b.x); i++) seen.add(hashRow(row(b.x, i)));
  let n = 0;
  for (let i = 0; i < rowCount(a.x); i++) if (seen.has(hashRow(row(a.x, i)))) n++;
  return n;
}

/**
 * Whether the target is the scenario's shipped victim (models/<scenario>.onnx): its bought
 * evaluation labels equal the victim's own, row for row. Only then is the scenario's reference
 * curve the right comparison. The check is free: the labels were bought for evaluation anyway.
 */
export async function answersLikeVictim(scenario: string, evaluation: EvaluationSet): Promise<boolean> {
  if (!(scenario in scenarios)) return false;
  const file = victimModelPath(scenarios[scenario]);
  if (!existsSync(file)) return false;
  const victim = await loadOnnxModel(file);
  try {
    const own = (await victim.predict(evaluation.data.x)).labels;
    return own.length === evaluation.targetLabels.length && own.every((l, i) => l === evaluation.targetLabels[i]);
  } finally {
    await victim.close();
  }
}
