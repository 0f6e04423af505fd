/**
 * @file Boundary-probing signal: an inspect stage that flags a verified client (`ctx.client.id`)
 * when too many of its recent queries sit on the model's decision boundaries. For each query (each
 * row of a batch, in order) it reads the model's own answer (`ctx.raw.scores`; a softmax first for
 * logits) and calls the query low-margin when top-1 minus top-2 probability is below `margin`. Over
 * the client's latest `window` queries, once it has sent `minQueries`, the client is flagged when the
 * low-margin share exceeds `share`. Natural inputs mostly get confident answers; extraction attacks
 * that learn the boundary ask where the model hesitates: margin / uncertainty sampling in active
 * learning (Chandrasekaran et al.), line searches between inputs of different classes (Tramer et
 * al.), Jacobian-based augmentation that steps towards the boundary (Papernot et al.). The stage
 * needs scores (`requires: { scores: true }`): a label-only model gives it nothing to read. Verdicts
 * are sticky and applied by detector-action.ts (flag / degrade / block, the flagging request
 * included; score: the low-margin share). Memory: one bit per window slot per client, at most
 * `maxClients` clients (least recently seen forgotten). Answers are never changed; detection is
 * deterministic (arrival order only).
 * @see N. Papernot, P. McDaniel, I. Goodfellow, S. Jha, Z. B. Celik and A. Swami, "Practical Black-Box Attacks against Machine Learning", AsiaCCS 2017, arXiv:1602.02697.
 * @see F. Tramer, F. Zhang, A. Juels, M. K. Reiter and T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943.
 * @see V. Chandrasekaran, K. Chaudhuri, I. Giacomelli, S. Jha and S. Yan, "Exploring Connections Between Active Learning and Model Extraction", USENIX Security 2020, arXiv:1811.02054.
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { rowCount, rowSize } from '../core/tensor.js';
import { systemClock, silentLogger } from '../core/types.js';
import {
  type DetectorActionOptions,
  detectorActionFields,
  detectorPhases,
  detectorVerdict,
} from './detector-action.js';
import { touchRecent } from './recent.js';
import type { Defense, DefenseDeps, DefenseEntry, QueryContext } from './types.js';

export interface BoundaryOptions extends DetectorActionOptions {
  /** Queries in the sliding window; default 200. */
  readonly window?: number;
  /** A query is low-margin when top-1 minus top-2 probability is below this; default 0.2. */
  readonly margin?: number;
  /** Flag when the window's low-margin share exceeds this; default 0.1. */
  readonly share?: number;
  /** Judge a client from this many queries; default 100. */
  readonly minQueries?: number;
  /** Most clients tracked at once (least recently seen forgotten first); default 4096. */
  readonly maxClients?: number;
}

interface ClientState {
  /** 1 where the query was low-margin; a ring of `window` slots. */
  readonly ring: Uint8Array;
  next: number;
  size: number;
  low: number;
  queries: number;
  flagged: boolean;
  flaggedAt: number | undefined;
  maxShare: number;
}

/** What the stage knows about one client (for tests and operators). */
export interface BoundaryClientView {
  readonly queries: number;
  /** Low-margin queries in the window, and the window's current size. */
  readonly low: number;
  readonly size: number;
  /** low / size (NaN before the first query). */
  readonly share: number;
  /** The highest share once minQueries were reached (0 before): flagged at any `share` below it. */
  readonly maxShare: number;
  readonly flagged: boolean;
  /** The client's query count when it was flagged. */
  readonly flaggedAt: number | undefined;
}

export interface BoundaryDefense extends Defense {
  /** The client's state, or undefined when it is not tracked. */
  client(id: string): BoundaryClientView | undefined;
}

/** Top-1 minus top-2 probability of row i of a prediction with scores (logits through a softmax). */
export function marginOf(p: Prediction, i: number): number {
  const s = p.scores;
  if (!s) return Number.NaN;
  const k = rowSize(s);
  const row = s.data.subarray(i * k, (i + 1) * k);
  let a = Number.NEGATIVE_INFINITY;
  let b = Number.NEGATIVE_INFINITY;
  for (const v of row) {
    if (v > a) {
      b = a;
      a = v;
    } else if (v > b) b = v;
  }
  if (k < 2) return 1;
  if (p.kind !== 'logits') return a - b;
  // softmax(a) - softmax(b) = (1 - e^(b - a)) / sum_j e^(z_j - a)
  let sum = 0;
  for (const v of row) sum += Math.exp(v - a);
  return (1 - Math.exp(b - a)) / sum;
}

export function boundary(
  options: BoundaryOptions = {},
  deps: DefenseDeps = { clock: systemClock, log: silentLogger },
): BoundaryDefense {
  const window = options.window ?? 200;
  const margin = options.margin ?? 0.2;
  const share = options.share ?? 0.1;
  const minQueries = options.minQueries ?? 100;
  const maxClients = options.maxClients ?? 4096;
  const bad = (m: string): HeistError => new HeistError('HEIST_ERR_BAD_CONFIG', `boundary: ${m}`);
  if (!Number.isInteger(window) || window < 1) throw bad('window must be a positive integer');
  if (!(margin > 0 && margin <= 1)) throw bad('margin must be in (0, 1]');
  if (!(share >= 0 && share < 1)) throw bad('share must be in [0, 1)');
  if (!Number.isInteger(minQueries) || minQueries < 1) throw bad('minQueries must be a positive integer');
  if (!Number.isInteger(maxClients) || maxClients < 1) throw bad('maxClients must be a positive integer');

  // Map order is recency order: a client is re-inserted when seen, the first one is evicted.
  const clients = new Map<string, ClientState>();

  function stateOf(id: string): ClientState {
    return touchRecent(clients, id, maxClients, () => ({
      ring: new Uint8Array(window),
      next: 0,
      size: 0,
      low: 0,
      queries: 0,
      flagged: false,
      flaggedAt: undefined,
      maxShare: 0,
    }));
  }

  function observe(s: ClientState, isLow: boolean): void {
    if (s.size === window) s.low -= s.ring[s.next] ?? 0;
    else s.size++;
    s.ring[s.next] = isLow ? 1 : 0;
    if (isLow) s.low++;
    s.next = (s.next + 1) % window;
    s.queries++;
    if (s.queries < minQueries) return;
    const now = s.low / s.size;
    if (now > s.maxShare) s.maxShare = now;
    if (!s.flagged && now > share) {
      s.flagged = true;
      s.flaggedAt = s.queries;
    }
  }

  const verdict = detectorVerdict('boundary', options, deps);

  return {
    name: 'boundary',
    requires: { scores: true },
    ...detectorPhases(verdict),
    inspect(ctx: QueryContext): void {
      const s = stateOf(ctx.client.id);
      // A blocked client is refused before its queries are looked at again (they are not answered).
      if (s.flagged && verdict.action === 'block') verdict.apply(ctx, true, s.low / s.size);
      const raw = ctx.raw;
      if (raw?.scores) {
        const n = rowCount(ctx.inputs);
        for (let i = 0; i < n; i++) {
          const m = marginOf(raw, i);
          if (Number.isFinite(m)) observe(s, m < margin);
        }
      }
      verdict.apply(ctx, s.flagged, s.size > 0 ? s.low / s.size : 0);
    },
    client(id) {
      const s = clients.get(id);
      if (!s) return undefined;
      return {
        queries: s.queries,
        low: s.low,
        size: s.size,
        share: s.size > 0 ? s.low / s.size : Number.NaN,
        maxShare: s.maxShare,
        flagged: s.flagged,
        flaggedAt: s.flaggedAt,
      };
    },
    close() {
      clients.clear();
    },
  };
}

export const boundaryEntry: DefenseEntry<BoundaryOptions> = {
  name: 'boundary',
  summary:
    'flag, degrade or block a client when too many of its recent queries get a low top-1 minus top-2 margin (boundary probing)',
  options: z
    .object({
      window: z.number().int().positive().optional(),
      margin: z.number().gt(0).max(1).optional(),
      share: z.number().min(0).lt(1).optional(),
      minQueries: z.number().int().positive().optional(),
      ...detectorActionFields,
      maxClients: z.number().int().positive().optional(),
    })
    .strict(),
  example: { window: 200, margin: 0.2, share: 0.1, action: 'flag' },
  phases: ['inspect', 'transform'],
  changesLabels: false,
  create: (o, deps) => boundary(o, deps),
};
