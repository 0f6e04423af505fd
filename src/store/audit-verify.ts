/**
 * @file verify() for every store: walks each log from its anchor, a page of records at a time
 * (so a long log neither fills memory nor holds up appends between pages), through the shared
 * ChainWalker. A store supplies only the reads, as a ChainSource.
 */
import { type BadRecord, type ChainAnchor, ChainWalker, type LogReport } from './audit-chain.js';
import type { StoredAuditRecord, VerifyReport } from './types.js';

/** One stored record: decoded, or (when its columns cannot be decoded) why not. */
export type PageItem =
  | { readonly seq: number; readonly hash: string; readonly record: StoredAuditRecord }
  | { readonly seq: number; readonly hash: string; readonly error: string };

export interface ChainSource {
  /** Every log that has records or an anchor (or only `only`, when it has), in byte order. */
  logs(only?: string): Promise<string[]>;
  /** The log's anchor: where its chain starts (seq 1 after the genesis hash unless pruned). */
  anchor(log: string): Promise<ChainAnchor>;
  /** Up to `limit` records of the log with seq > afterSeq, in seq order. */
  page(log: string, afterSeq: number, limit: number): Promise<PageItem[]>;
}

const PAGE = 256;

/** Walks one log; `stopAtBad` ends the walk at the first bad record (prune only needs a yes/no). */
export async function walkLog(
  source: ChainSource,
  log: string,
  key: Uint8Array | undefined,
  stopAtBad = false,
): Promise<{ report: LogReport; firstBad?: BadRecord }> {
  const walker = new ChainWalker(log, await source.anchor(log), key);
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const items = await source.page(log, after, PAGE);
    for (const item of items) {
      if ('record' in item) walker.next(item.record);
      else walker.unreadable(item.seq, item.hash, item.error);
      after = item.seq;
    }
    if (items.length < PAGE || (stopAtBad && walker.firstBad)) break;
  }
  return { report: walker.report(), ...(walker.firstBad ? { firstBad: walker.firstBad } : {}) };
}

export async function verifyChains(
  source: ChainSource,
  key: Uint8Array | undefined,
  only?: string,
): Promise<VerifyReport> {
  const logs: LogReport[] = [];
  let firstBad: BadRecord | undefined;
  for (const log of await source.logs(only)) {
    const walked = await walkLog(source, log, key);
    logs.push(walked.report);
    firstBad ??= walked.firstBad;
  }
  return {
    ok: firstBad === undefined,
    records: logs.reduce((n, l) => n + l.records, 0),
    logs,
    ...(firstBad ? { firstBad } : {}),
  };
}
