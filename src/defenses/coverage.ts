/**
 * @file Feature-space coverage monitor after Kesarwani et al.: an inspect stage that watches how much
 * of the input space each verified client (`ctx.client.id`) has explored, and how much all clients
 * of a group (the pipeline, or a tier) have explored together, so that an extraction spread over
 * many keys (Sybil, colluding users) shows up. The paper partitions the space by a decision tree's
 * leaves; Heist serves arbitrary models, so the partition here is generic: the leaves of a seeded
 * random oblivious tree of depth `bits` (split b tests input feature f_b > t_b, f_b uniform over the
 * features, t_b uniform over the model's declared input domain), crossed with the model's top-1
 * class: classes x 2^bits cells. Natural data fill few of them (most features sit at typical
 * values); queries that roam the domain fill many. Per client, coverage = distinct cells hit / cells
 * possible; once it has sent `minQueries` queries and its coverage reaches `coverage`, it is flagged.
 * Per group, the latest `aggregateWindow` queries are kept as cells with their distinct visitors;
 * when the group's coverage (distinct cells in the window / cells possible) reaches
 * `aggregateCoverage`, the group is suspicious, and a client is flagged on its next request when at
 * least `rareShare` of its own cells in the window (at least `minCells` of them) are rare: visited by
 * fewer than `commonVisitors` distinct clients. Honest clients ask about the same natural regions, so
 * their union saturates at the data's footprint and their cells are shared; colluding explorers each
 * add cells that few others visit. Verdicts are sticky and applied by detector-action.ts (flag /
 * degrade / block, the flagging request included); the score is the client's coverage (own verdict)
 * or the group's (aggregate verdict). Memory is bounded: a client keeps at most the cells that decide
 * its verdict (coverage x cells possible), at most `maxClients` clients are tracked and 64 groups (the
 * least recently seen forgotten), a group holds `aggregateWindow` cells with fewer than
 * `commonVisitors` visitor ids each. Answers are never changed; detection is deterministic (seed and
 * arrival order). Deviations from the paper: this partition instead of the model's own tree leaves,
 * distinct-cell coverage instead of the covered volume of each leaf, no information-gain measure,
 * and the rare-cell attribution of a suspicious group to keys.
 * @see M. Kesarwani, B. Mukhoty, V. Arya and S. Mehta, "Model Extraction Warning in MLaaS Paradigm", ACSAC 2018, arXiv:1711.07221.
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
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

export const coverageGroupings = ['pipeline', 'tier', 'off'] as const;
export type CoverageGrouping = (typeof coverageGroupings)[number];

export interface CoverageOptions extends DetectorActionOptions {
  /** Random splits per cell code, the depth of the random oblivious tree (1 to 16); default 8: classes x 256 cells. */
  readonly bits?: number;
  /** Seeds the splits (features and thresholds); default 0. */
  readonly seed?: number;
  /** Split thresholds are drawn uniformly from [low, high]; default the model's declared input domain. */
  readonly range?: readonly [number, number];
  /** Flag a client whose own coverage reaches this share of the cells; default 0.08. */
  readonly coverage?: number;
  /** A client is judged on its own coverage from this many queries; default 100. */
  readonly minQueries?: number;
  /** Whose queries are pooled: the whole pipeline (default), each `ctx.client.tier`, or no aggregate. */
  readonly aggregate?: CoverageGrouping;
  /** Queries a group remembers; default 100000. */
  readonly aggregateWindow?: number;
  /** The group is suspicious at this coverage of its window; default 0.1. */
  readonly aggregateCoverage?: number;
  /** In a suspicious group, flag a client when this share of its cells in the window is rare; default 0.5. */
  readonly rareShare?: number;
  /** A cell is rare while fewer than this many distinct clients (at least 2) visited it in the window; default 32. */
  readonly commonVisitors?: number;
  /** A client is judged against its group once at least this many of its cells are in the window; default 20. */
  readonly minCells?: number;
  /** Most clients tracked at once (least recently seen forgotten first); default 4096. */
  readonly maxClients?: number;
}

/** How many groups (tiers) are pooled at once; the least recently seen is forgotten. */
const MAX_GROUPS = 64;

interface ClientState {
  /** A number for the group's visitor lists (a forgotten client that comes back gets a new one). */
  readonly no: number;
  readonly cells: Set<number>;
  queries: number;
  flagged: 'key' | 'aggregate' | undefined;
  flaggedAt: number | undefined;
  /** Cells possible for the model it last queried (classes x 2^bits). */
  possible: number;
  group: string;
}

interface CellState {
  count: number;
  /** Its distinct visitors (client numbers) while fewer than commonVisitors; undefined once common. */
  visitors: number[] | undefined;
}

interface GroupState {
  readonly ring: Float64Array;
  next: number;
  size: number;
  readonly cells: Map<number, CellState>;
  possible: number;
}

/** What the stage knows about one client (for tests and operators). */
export interface CoverageClientView {
  readonly queries: number;
  /** Distinct cells hit until the verdict (then no longer counted). */
  readonly cells: number;
  /** cells / cells possible. */
  readonly coverage: number;
  readonly flagged: boolean;
  /** Which test flagged it: its own coverage, or its rare share in a suspicious group. */
  readonly flaggedBy: 'key' | 'aggregate' | undefined;
  /** The client's query count when it was flagged. */
  readonly flaggedAt: number | undefined;
  /** Share of its cells in its group's window that are rare (NaN when none is there). */
  readonly rareShare: number;
}

export interface CoverageGroupView {
  /** Queries in the window. */
  readonly queries: number;
  /** Distinct cells in the window. */
  readonly cells: number;
  readonly coverage: number;
  readonly suspicious: boolean;
}

export interface CoverageDefense extends Defense {
  /** The client's state, or undefined when it is not tracked. */
  client(id: string): CoverageClientView | undefined;
  /** A group's state ('' or no tier: the pipeline's, or the tier-less clients'), undefined before its first query. */
  group(tier?: string): CoverageGroupView | undefined;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new HeistError('HEIST_ERR_BAD_CONFIG', `coverage: ${message}`);
}

export function coverage(
  options: CoverageOptions = {},
  deps: DefenseDeps = { clock: systemClock, log: silentLogger },
): CoverageDefense {
  const bits = options.bits ?? 8;
  const seed = options.seed ?? 0;
  const threshold = options.coverage ?? 0.08;
  const minQueries = options.minQueries ?? 100;
  const grouping = options.aggregate ?? 'pipeline';
  const window = options.aggregateWindow ?? 100000;
  const groupThreshold = options.aggregateCoverage ?? 0.1;
  const rareShare = options.rareShare ?? 0.5;
  const commonVisitors = options.commonVisitors ?? 32;
  const minCells = options.minCells ?? 20;
  const maxClients = options.maxClients ?? 4096;
  check(Number.isInteger(bits) && bits >= 1 && bits <= 16, 'bits must be an integer in [1, 16]');
  check(Number.isInteger(seed), 'seed must be an integer');
  check(
    options.range === undefined ||
      (Number.isFinite(options.range[0]) && Number.isFinite(options.range[1]) && options.range[0] < options.range[1]),
    'range must be [low, high] with finite low < high',
  );
  check(threshold > 0 && threshold <= 1, 'coverage must be in (0, 1]');
  check(Number.isInteger(minQueries) && minQueries >= 1, 'minQueries must be a positive integer');
  check(Number.isInteger(window) && window >= 1, 'aggregateWindow must be a positive integer');
  check(groupThreshold > 0 && groupThreshold <= 1, 'aggregateCoverage must be in (0, 1]');
  check(rareShare > 0 && rareShare <= 1, 'rareShare must be in (0, 1]');
  check(Number.isInteger(commonVisitors) && commonVisitors >= 2, 'commonVisitors must be an integer of at least 2');
  check(Number.isInteger(minCells) && minCells >= 1, 'minCells must be a positive integer');
  check(Number.isInteger(maxClients) && maxClients >= 1, 'maxClients must be a positive integer');

  const codes = 2 ** bits;
  // The splits per row size and threshold range (one of each per model in practice), drawn from the seed alone.
  const splits = new Map<string, { readonly features: Int32Array; readonly thresholds: Float64Array }>();
  function splitsFor(d: number, lo: number, hi: number): { features: Int32Array; thresholds: Float64Array } {
    const key = `${d}:${lo}:${hi}`;
    let sp = splits.get(key);
    if (!sp) {
      const rng = createRng(seed).fork(`coverage:${d}`);
      const bounded = Number.isFinite(lo) && Number.isFinite(hi) && hi > lo;
      sp = {
        features: Int32Array.from({ length: bits }, () => rng.int(d)),
        // An unbounded domain: standard-normal thresholds (standardized features).
        thresholds: Float64Array.from({ length: bits }, () => (bounded ? rng.uniform(lo, hi) : rng.normal())),
      };
      splits.set(key, sp);
    }
    return sp;
  }

  function code(x: Float32Array, sp: { features: Int32Array; thresholds: Float64Array }): number {
    let c = 0;
    for (let b = 0; b < bits; b++) if ((x[sp.features[b] ?? 0] ?? 0) > (sp.thresholds[b] ?? 0)) c |= 1 << b;
    return c;
  }

  // Map order is recency order: an entry is re-inserted when seen, the first one is evicted.
  const clients = new Map<string, ClientState>();
  const groups = new Map<string, GroupState>();
  let clientNumbers = 0;

  function remember(g: GroupState, cell: number, client: number): void {
    if (g.size === window) {
      const old = g.ring[g.next] ?? 0;
      const c = g.cells.get(old);
      if (c && --c.count === 0) g.cells.delete(old);
    } else {
      g.size++;
    }
    g.ring[g.next] = cell;
    g.next = (g.next + 1) % window;
    const c = g.cells.get(cell);
    if (!c) g.cells.set(cell, { count: 1, visitors: [client] });
    else {
      c.count++;
      if (c.visitors && !c.visitors.includes(client)) {
        c.visitors.push(client);
        if (c.visitors.length >= commonVisitors) c.visitors = undefined;
      }
    }
  }

  function shareOf(s: ClientState, g: GroupState | undefined): { present: number; share: number } {
    if (!g) return { present: 0, share: Number.NaN };
    let present = 0;
    let own = 0;
    for (const cell of s.cells) {
      const c = g.cells.get(cell);
      if (!c) continue;
      present++;
      if (c.visitors) own++;
    }
    return { present, share: present > 0 ? own / present : Number.NaN };
  }

  const verdict = detectorVerdict('coverage', options, deps);

  return {
    name: 'coverage',
    ...detectorPhases(verdict),
    inspect(ctx: QueryContext): void {
      const id = ctx.client.id;
      const groupKey = grouping === 'tier' ? (ctx.client.tier ?? '') : '';
      const s = touchRecent(clients, id, maxClients, () => ({
        no: clientNumbers++,
        cells: new Set<number>(),
        queries: 0,
        flagged: undefined,
        flaggedAt: undefined,
        possible: 1,
        group: groupKey,
      }));
      s.group = groupKey;
      const possible = ctx.model.classes * codes;
      s.possible = possible;
      const score = (): number => s.cells.size / possible;
      // A blocked client is refused before its queries are counted again (they are not answered).
      if (s.flagged && verdict.action === 'block') verdict.apply(ctx, true, score());
      const raw = ctx.raw;
      const g =
        grouping === 'off'
          ? undefined
          : touchRecent(groups, groupKey, MAX_GROUPS, () => ({
              ring: new Float64Array(window),
              next: 0,
              size: 0,
              cells: new Map<number, CellState>(),
              possible,
            }));
      if (g) g.possible = possible;
      if (raw) {
        const [lo, hi] = options.range ?? [ctx.model.domain.min, ctx.model.domain.max];
        const n = rowCount(ctx.inputs);
        const d = rowSize(ctx.inputs);
        const sp = splitsFor(d, lo, hi);
        for (let i = 0; i < n; i++) {
          const cell = (raw.labels[i] ?? 0) * codes + code(ctx.inputs.data.subarray(i * d, (i + 1) * d), sp);
          s.queries++;
          if (g) remember(g, cell, s.no);
          if (s.flagged) continue;
          s.cells.add(cell);
          if (s.queries >= minQueries && score() >= threshold) {
            s.flagged = 'key';
            s.flaggedAt = s.queries;
          }
        }
      }
      if (g && !s.flagged && g.cells.size / possible >= groupThreshold) {
        const { present, share } = shareOf(s, g);
        if (present >= minCells && share >= rareShare) {
          s.flagged = 'aggregate';
          s.flaggedAt = s.queries;
        }
      }
      const groupScore = g ? g.cells.size / possible : 0;
      verdict.apply(ctx, s.flagged !== undefined, s.flagged === 'aggregate' ? groupScore : score());
    },
    client(id) {
      const s = clients.get(id);
      if (!s) return undefined;
      const g = groups.get(s.group);
      return {
        queries: s.queries,
        cells: s.cells.size,
        coverage: s.cells.size / s.possible,
        flagged: s.flagged !== undefined,
        flaggedBy: s.flagged,
        flaggedAt: s.flaggedAt,
        rareShare: shareOf(s, g).share,
      };
    },
    group(tier) {
      const g = groups.get(grouping === 'tier' ? (tier ?? '') : '');
      if (!g) return undefined;
      const c = g.cells.size / g.possible;
      return { queries: g.size, cells: g.cells.size, coverage: c, suspicious: c >= groupThreshold };
    },
    close() {
      clients.clear();
      groups.clear();
    },
  };
}

export const coverageEntry: DefenseEntry<CoverageOptions> = {
  name: 'coverage',
  summary:
    'flag, degrade or block a client, or the keys of a colluding group, whose queries cover too much of the input space (class x random-split cells)',
  paper:
    'M. Kesarwani, B. Mukhoty, V. Arya and S. Mehta, "Model Extraction Warning in MLaaS Paradigm", ACSAC 2018, arXiv:1711.07221',
  options: z
    .object({
      bits: z.number().int().min(1).max(16).optional(),
      seed: z.number().int().optional(),
      range: z.tuple([z.number().finite(), z.number().finite()]).optional(),
      coverage: z.number().gt(0).max(1).optional(),
      minQueries: z.number().int().positive().optional(),
      aggregate: z.enum(coverageGroupings).optional(),
      aggregateWindow: z.number().int().positive().optional(),
      aggregateCoverage: z.number().gt(0).max(1).optional(),
      rareShare: z.number().gt(0).max(1).optional(),
      commonVisitors: z.number().int().min(2).optional(),
      minCells: z.number().int().positive().optional(),
      ...detectorActionFields,
      maxClients: z.number().int().positive().optional(),
    })
    .strict(),
  example: { bits: 8, seed: 0, coverage: 0.08, aggregate: 'pipeline', action: 'flag' },
  phases: ['inspect', 'transform'],
  changesLabels: false,
  create: (o, deps) => coverage(o, deps),
};
