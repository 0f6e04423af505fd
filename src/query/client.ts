/**
 * @file createQueryClient: THE one place the decorator order is fixed.
 *   cache -> budget -> transcript -> concurrency (splitter) -> retry -> pacing -> the target
 * Cache outermost, so repeated rows never reach the budget; budget before anything is written or
 * sent, so an over-budget call is refused untouched; transcript above the splitter, so each completed
 * upstream call is on disk before the budget, the cache or the caller sees it; retry innermost, so a
 * retried upstream call is counted and recorded once; pacing below retry, so retries keep to the
 * rate limit too. The splitter cuts calls to the target's own
 * batch cap (Oracle.maxBatch), so that one upstream call is one request: nothing below it splits
 * again, a retry re-sends one request, and every request that was answered is recorded and counted
 * even when a later request of the same call fails.
 */
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { createRng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import { systemClock } from '../core/types.js';
import type { Oracle, QueryOptions, QueryPurpose } from '../oracle/types.js';
import { withBudget } from './budget.js';
import { withCache } from './cache.js';
import { withConcurrency } from './concurrency.js';
import { withPacing } from './pacing.js';
import { withRetry } from './retry.js';
import { type Transcript, openTranscript, withTranscript } from './transcript.js';
import type { QueryClient, QueryClientOptions } from './types.js';

export function createQueryClient(oracle: Oracle, options: QueryClientOptions): QueryClient {
  const clock = options.clock ?? systemClock;
  const rng = options.rng ?? createRng(0);
  if (options.resume && !options.transcriptPath) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', 'resume needs a transcript path');
  }

  const rate = options.rate ?? oracle.rate;
  const paced = rate ? withPacing(oracle, rate, clock) : oracle;
  const retry = withRetry(paced, options.retry ?? {}, { clock, rng: rng.fork('query-retry'), log: options.log });
  const split = withConcurrency(retry, {
    concurrency: options.concurrency ?? 4,
    maxCallRows: Math.min(options.maxCallRows ?? 256, oracle.maxBatch ?? Number.POSITIVE_INFINITY),
  });
  const transcript: Transcript | undefined = options.transcriptPath
    ? openTranscript(options.transcriptPath, {
        info: oracle.info,
        resume: options.resume,
        overwrite: options.overwrite,
        fsync: options.fsync,
        clock,
      })
    : undefined;
  const loaded = transcript?.loaded ?? [];
  const initialSpent: Record<QueryPurpose, number> = { attack: 0, eval: 0, probe: 0 };
  for (const r of loaded) initialSpent[r.purpose]++;
  let budget: ReturnType<typeof withBudget>;
  try {
    budget = withBudget(transcript ? withTranscript(split, transcript) : split, options.budget, initialSpent);
  } catch (e) {
    transcript?.close();
    throw e;
  }
  const cache = withCache(budget, loaded);

  let closed = false;
  const spentTotal = (): number => {
    const s = budget.spent;
    return s.attack + s.eval + s.probe;
  };
  return {
    info: oracle.info,
    get used() {
      return spentTotal();
    },
    get cached() {
      return cache.hits;
    },
    get remaining() {
      return budget.remaining('attack');
    },
    get spentByPurpose() {
      return budget.spent;
    },
    remainingFor: (purpose: QueryPurpose) => budget.remaining(purpose),
    async query(x: Tensor, opts: QueryOptions = {}): Promise<Prediction> {
      if (closed) throw new HeistError('HEIST_ERR_INTERNAL', 'the query client is closed');
      return cache.query(x, { purpose: opts.purpose, signal: opts.signal });
    },
    async close() {
      if (closed) return;
      closed = true;
      transcript?.close();
      await oracle.close?.();
    },
  };
}
