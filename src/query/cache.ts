/**
 * @file withCache, the outermost layer: identical input rows (same content hash, core/hash.ts) are
 * never bought twice, within one call, across calls, and across concurrent calls (a row another call
 * is buying is awaited, not bought again). A cached row costs nothing. The cache is partitioned by
 * purpose, so an eval answer never feeds the attack for free (and vice versa).
 */
import { HeistError } from '../core/errors.js';
import { hashRow } from '../core/hash.js';
import { type Prediction, inputSize } from '../core/prediction.js';
import { type Tensor, row, rowCount, rowSize, takeRows } from '../core/tensor.js';
import { type RowAnswer, fromRowAnswers, rowAnswer } from '../oracle/merge.js';
import type { Oracle, QueryPurpose } from '../oracle/types.js';
import { queryReporting } from './chunks.js';
import type { LayerQueryOptions } from './types.js';

export interface CachedRow {
  readonly hash: string;
  readonly purpose: QueryPurpose;
  readonly label: number;
  readonly probs?: Float32Array;
}

export interface CacheOracle extends Oracle {
  /** Rows answered from the cache so far. */
  readonly hits: number;
  /** Distinct rows held. */
  readonly size: number;
}

export function withCache(inner: Oracle, prefill: Iterable<CachedRow> = []): CacheOracle {
  const info = inner.info;
  const size = inputSize(info);
  const store = new Map<string, RowAnswer>();
  const pending = new Map<string, Promise<void>>();
  for (const r of prefill)
    store.set(`${r.purpose}:${r.hash}`, r.probs ? { label: r.label, probs: r.probs } : { label: r.label });
  let hits = 0;

  return {
    info,
    get hits() {
      return hits;
    },
    get size() {
      return store.size;
    },
    async query(x: Tensor, opts: LayerQueryOptions = {}): Promise<Prediction> {
      const n = rowCount(x);
      if (x.shape.length < 1 || (n > 0 && rowSize(x) !== size)) {
        throw new HeistError(
          'HEIST_ERR_SHAPE',
          `rows of shape [${x.shape.slice(1)}] do not fit ${info.name}'s input [${info.inputShape}]`,
        );
      }
      const purpose = opts.purpose ?? 'attack';
      const keys: string[] = [];
      for (let i = 0; i < n; i++) keys.push(`${purpose}:${hashRow(row(x, i))}`);
      // Wait out other calls already buying some of these rows, then claim the rest synchronously.
      for (;;) {
        const waits = new Set<Promise<void>>();
        for (const k of keys) if (!store.has(k) && pending.has(k)) waits.add(pending.get(k)!);
        if (waits.size === 0) break;
        await Promise.all(waits);
      }
      const missing: string[] = [];
      const firstIndex: number[] = [];
      const seen = new Set<string>();
      keys.forEach((k, i) => {
        if (store.has(k) || seen.has(k)) return;
        seen.add(k);
        missing.push(k);
        firstIndex.push(i);
      });
      if (missing.length > 0) {
        let done!: () => void;
        const claim = new Promise<void>((resolve) => (done = resolve));
        for (const k of missing) pending.set(k, claim);
        try {
          const sub = missing.length === n ? x : takeRows(x, firstIndex);
          await queryReporting(inner, sub, { purpose, signal: opts.signal }, (offset, xs, answer) => {
            for (let j = 0; j < rowCount(xs); j++) store.set(missing[offset + j], rowAnswer(answer, j));
          });
        } finally {
          for (const k of missing) pending.delete(k);
          done();
        }
      }
      hits += n - missing.length;
      return fromRowAnswers(
        keys.map((k) => store.get(k)!),
        info.classes,
        info.output,
      );
    },
  };
}
