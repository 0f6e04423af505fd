/**
 * @file PRADA, the stateful model-extraction detector of Juuti et al.: an inspect stage that keeps,
 * per verified client (`ctx.client.id`) and per predicted class c, a growing set G_c of kept
 * queries and a threshold T_c, and one list D of every query's minimum L2 distance to the kept
 * queries of its class. Natural queries give roughly normal distances; synthetic ones (small steps
 * from a seed, as JBDA-style attacks make) do not, so once |D| > minSamples the Shapiro-Wilk W of
 * D (outliers beyond 3 standard deviations removed) falls below `delta` and the client is flagged.
 * Per query (each row of a batch, in order), as in the paper's Algorithm 1 and the authors'
 * released code (GrowingDistanceAgent): the first query of a class only seeds G_c (its distance
 * set starts at {0}); later ones add d_min to D, and when d_min > T_c join G_c with
 * T_c <- max(T_c, mean - std of G_c's distances, population std). Deliberate choices: W is tested
 * after every query (the released code tests every 10th and drops classes with < 10 distances);
 * a flag is sticky, a verdict on the client, applied by detector-action.ts (`flag`: every later
 * request gets the Flag; `degrade`: its answers also go through the degrade stage; `block`: refused
 * with 403 HEIST_ERR_FORBIDDEN), the flagging request included. Memory is bounded: at most
 * `maxPerClient` kept queries per client (beyond that G_c stops growing, so T_c freezes, while D
 * still takes every distance), D holds the latest 5000 distances (Shapiro-Wilk's limit), and at
 * most `maxClients` clients are tracked (the least recently seen is forgotten and starts afresh).
 * State lives in the stage instance (one per model pipeline) and is not shared across replicas.
 * Answers are never changed, and detection is deterministic (arrival order only).
 * @see M. Juuti, S. Szyller, S. Marchal and N. Asokan, "PRADA: Protecting against DNN Model Stealing Attacks", IEEE EuroS&P 2019, arXiv:1805.02628.
 * @see J. P. Royston, "Remark AS R94", Applied Statistics 44(4), 1995 (the W test, src/core/shapiro-wilk.ts).
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { shapiroWilk } from '../core/shapiro-wilk.js';
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

export interface PradaOptions extends DetectorActionOptions {
  /** Flag when W(D') < delta; default 0.96. */
  readonly delta?: number;
  /** Test once |D| exceeds this; the paper's minimum is 100. */
  readonly minSamples?: number;
  /** Most kept queries per client, all classes together; default 5000. */
  readonly maxPerClient?: number;
  /** Most clients tracked at once (least recently seen forgotten first); default 256. */
  readonly maxClients?: number;
}

/** D's length bound: the largest sample Shapiro-Wilk (AS R94) takes. */
const MAX_DISTANCES = 5000;

interface ClassState {
  /** Kept rows, back to back (capacity grows by doubling). */
  rows: Float32Array;
  count: number;
  /** Welford running mean and sum of squared deviations of the kept distances. */
  mean: number;
  m2: number;
  kept: number;
  threshold: number;
}

interface ClientState {
  readonly classes: Map<number, ClassState>;
  keptTotal: number;
  queries: number;
  /** The latest distances, a ring of MAX_DISTANCES. */
  readonly distances: Float64Array;
  distanceCount: number;
  next: number;
  flagged: boolean;
  w: number;
  minW: number;
}

/** What the stage knows about one client (for tests and operators). */
export interface PradaClientView {
  readonly queries: number;
  readonly kept: number;
  readonly distances: number;
  readonly flagged: boolean;
  /** The latest W, NaN before the first test. */
  readonly w: number;
  /** The lowest W so far (1 before the first test): the client is flagged at any delta above it. */
  readonly minW: number;
}

export interface PradaDefense extends Defense {
  /** The client's state, or undefined when it is not tracked. */
  client(id: string): PradaClientView | undefined;
}

export function prada(
  options: PradaOptions = {},
  deps: DefenseDeps = { clock: systemClock, log: silentLogger },
): PradaDefense {
  const delta = options.delta ?? 0.96;
  const minSamples = options.minSamples ?? 100;
  const maxPerClient = options.maxPerClient ?? 5000;
  const maxClients = options.maxClients ?? 256;
  if (!(delta > 0 && delta <= 1)) throw new HeistError('HEIST_ERR_BAD_CONFIG', `prada: delta must be in (0, 1]`);
  if (!Number.isInteger(minSamples) || minSamples < 3 || minSamples >= MAX_DISTANCES)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `prada: minSamples must be an integer in [3, ${MAX_DISTANCES})`);
  if (!Number.isInteger(maxPerClient) || maxPerClient < 1)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', 'prada: maxPerClient must be a positive integer');
  if (!Number.isInteger(maxClients) || maxClients < 1)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', 'prada: maxClients must be a positive integer');

  // Map order is recency order: a client is re-inserted when seen, the first one is evicted.
  const clients = new Map<string, ClientState>();

  function stateOf(id: string): ClientState {
    return touchRecent(clients, id, maxClients, () => ({
      classes: new Map(),
      keptTotal: 0,
      queries: 0,
      distances: new Float64Array(MAX_DISTANCES),
      distanceCount: 0,
      next: 0,
      flagged: false,
      w: Number.NaN,
      minW: 1,
    }));
  }

  function keep(c: ClassState, x: Float32Array, distance: number, s: ClientState): void {
    const d = x.length;
    if ((c.count + 1) * d > c.rows.length) {
      const grown = new Float32Array(Math.max(d, c.rows.length * 2));
      grown.set(c.rows);
      c.rows = grown;
    }
    c.rows.set(x, c.count * d);
    c.count++;
    s.keptTotal++;
    c.kept++;
    const dm = distance - c.mean;
    c.mean += dm / c.kept;
    c.m2 += dm * (distance - c.mean);
  }

  function minDistance(c: ClassState, x: Float32Array): number {
    const d = x.length;
    let best = Number.POSITIVE_INFINITY;
    for (let k = 0, o = 0; k < c.count; k++, o += d) {
      let sum = 0;
      for (let j = 0; j < d && sum < best; j++) {
        const t = (c.rows[o + j] ?? 0) - (x[j] ?? 0);
        sum += t * t;
      }
      if (sum < best) best = sum;
    }
    return Math.sqrt(best);
  }

  /** W of D with values beyond 3 standard deviations of its mean removed (the paper's D'). */
  function test(s: ClientState): number {
    const n = s.distanceCount;
    const all = s.distances.subarray(0, n);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += all[i] ?? 0;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += ((all[i] ?? 0) - mean) ** 2;
    const bound = 3 * Math.sqrt(v / n);
    const kept = all.filter((t) => Math.abs(t - mean) < bound);
    return kept.length >= 3 ? shapiroWilk(kept).w : 1;
  }

  function observe(s: ClientState, x: Float32Array, label: number): void {
    let c = s.classes.get(label);
    if (!c) {
      if (s.keptTotal >= maxPerClient) return;
      c = { rows: new Float32Array(0), count: 0, mean: 0, m2: 0, kept: 0, threshold: 0 };
      s.classes.set(label, c);
      keep(c, x, 0, s);
      return;
    }
    const dmin = minDistance(c, x);
    s.distances[s.next] = dmin;
    s.next = (s.next + 1) % MAX_DISTANCES;
    s.distanceCount = Math.min(s.distanceCount + 1, MAX_DISTANCES);
    if (dmin > c.threshold && s.keptTotal < maxPerClient) {
      keep(c, x, dmin, s);
      c.threshold = Math.max(c.threshold, c.mean - Math.sqrt(c.m2 / c.kept));
    }
    if (s.distanceCount > minSamples) {
      s.w = test(s);
      if (s.w < s.minW) s.minW = s.w;
      if (s.w < delta) s.flagged = true;
    }
  }

  const verdict = detectorVerdict('prada', options, deps);

  return {
    name: 'prada',
    ...detectorPhases(verdict),
    inspect(ctx: QueryContext): void {
      const id = ctx.client.id;
      const s = stateOf(id);
      // A blocked client is refused before its queries are looked at again.
      if (s.flagged && verdict.action === 'block') verdict.apply(ctx, true, s.w);
      const raw = ctx.raw;
      if (raw) {
        const n = rowCount(ctx.inputs);
        const d = rowSize(ctx.inputs);
        for (let i = 0; i < n; i++) {
          observe(s, ctx.inputs.data.subarray(i * d, (i + 1) * d), raw.labels[i] ?? 0);
          s.queries++;
          if (s.flagged) break;
        }
      }
      verdict.apply(ctx, s.flagged, s.w);
    },
    client(id) {
      const s = clients.get(id);
      if (!s) return undefined;
      return {
        queries: s.queries,
        kept: s.keptTotal,
        distances: s.distanceCount,
        flagged: s.flagged,
        w: s.w,
        minW: s.minW,
      };
    },
    close() {
      clients.clear();
    },
  };
}

export const pradaEntry: DefenseEntry<PradaOptions> = {
  name: 'prada',
  summary:
    "flag, degrade or block a client whose queries' minimum distances to its earlier ones stop looking normal (Shapiro-Wilk W < delta)",
  paper:
    'M. Juuti, S. Szyller, S. Marchal and N. Asokan, "PRADA: Protecting against DNN Model Stealing Attacks", IEEE EuroS&P 2019, arXiv:1805.02628',
  options: z
    .object({
      delta: z.number().gt(0).max(1).optional(),
      minSamples: z.number().int().min(3).lt(MAX_DISTANCES).optional(),
      ...detectorActionFields,
      maxPerClient: z.number().int().positive().optional(),
      maxClients: z.number().int().positive().optional(),
    })
    .strict(),
  example: { delta: 0.96, action: 'flag' },
  phases: ['inspect', 'transform'],
  changesLabels: false,
  create: (o, deps) => prada(o, deps),
};
