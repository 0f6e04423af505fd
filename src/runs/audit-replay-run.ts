/**
 * @file `heist audit replay` as a function: run a detector offline over an audit log, for
 * forensics and incident response. Each served record becomes the query context the detector saw
 * live (the record's client id and tier, its stored input rows, the model's own answer from
 * `raw`), in (log, seq) order, which is arrival order within one gateway's log; the detector's
 * inspect phase runs on it exactly as in the gateway (no model is needed: the answers are in the
 * log). Reports, per client, the requests and rows replayed and the first verdict (its log, seq,
 * time and the client's query count then). Needs a log kept with inputs (`audit.inputs: true`, the
 * default); rows without inputs are counted and skipped. Several replicas' logs are replayed one
 * after another, so a client spread over replicas is seen per log in turn.
 */
import { HeistError } from '../core/errors.js';
import type { ModelInfo } from '../core/prediction.js';
import { type Tensor, tensor } from '../core/tensor.js';
import { silentLogger, systemClock } from '../core/types.js';
import { createContext, defenses, withStageFactory } from '../defenses/index.js';
import { DefenseRejection, type Defense } from '../defenses/types.js';
import { auditPages } from '../store/audit-pages.js';
import type { StoredAuditRecord } from '../store/types.js';
import { type AuditTarget, withAuditStore } from './audit-run.js';

export interface ReplayOptions extends AuditTarget {
  /** A detector's registry name (a stage with an inspect phase). */
  readonly detector: string;
  /** Its options; default the entry's example options. */
  readonly options?: unknown;
  readonly model?: string;
  readonly client?: string;
  readonly since?: number;
  readonly until?: number;
}

export interface ReplayClient {
  readonly client: string;
  readonly requests: number;
  readonly rows: number;
  /** The first request the detector flagged (or refused), if any. */
  readonly firstVerdict?: {
    readonly reason: string;
    readonly log: string;
    readonly seq: number;
    readonly at: number;
    /** The client's rows replayed up to and including that request. */
    readonly afterRows: number;
  };
  /** Requests the detector flagged or refused. */
  readonly flaggedRequests: number;
}

export interface ReplayReport {
  readonly url: string;
  readonly detector: string;
  readonly records: number;
  readonly rows: number;
  /** Rows skipped because the log kept their hash only. */
  readonly rowsWithoutInput: number;
  readonly clients: readonly ReplayClient[];
}

interface ClientTally {
  requests: number;
  rows: number;
  flagged: number;
  first?: ReplayClient['firstVerdict'];
}

/** The served record's rows as the detector's inputs and the model's answer, or undefined when it has none to replay. */
function recordBatch(
  r: StoredAuditRecord,
): { x: Tensor; labels: Int32Array; scores?: Tensor; skipped: number } | undefined {
  const rows = r.rows.filter((row) => row.input !== undefined && row.raw !== undefined);
  const skipped = r.rows.length - rows.length;
  if (rows.length === 0) return skipped > 0 ? { x: tensor([], [0, 0]), labels: new Int32Array(0), skipped } : undefined;
  const d = rows[0].input!.length;
  if (rows.some((row) => row.input!.length !== d)) return undefined;
  const x = new Float32Array(rows.length * d);
  for (const [i, row] of rows.entries()) x.set(row.input!, i * d);
  const k = rows[0].raw!.scores?.length ?? 0;
  const withScores = k > 0 && rows.every((row) => row.raw!.scores?.length === k);
  const scores = withScores ? new Float32Array(rows.length * k) : undefined;
  if (scores) for (const [i, row] of rows.entries()) scores.set(row.raw!.scores!, i * k);
  return {
    x: tensor(x, [rows.length, d]),
    labels: Int32Array.from(rows, (row) => row.raw!.label),
    ...(scores ? { scores: tensor(scores, [rows.length, k]) } : {}),
    skipped,
  };
}

/** The defense registry's detectors (stages with an inspect phase), as a registry view for CLI choices. */
export function detectors(): {
  readonly role: string;
  has(name: string): boolean;
  names(): string[];
  entries(): readonly { readonly name: string; readonly summary: string }[];
} {
  const list = defenses.entries().filter((e) => e.phases.includes('inspect'));
  return {
    role: 'detector',
    has: (name) => list.some((e) => e.name === name),
    names: () => list.map((e) => e.name),
    entries: () => list,
  };
}

function createDetector(name: string, options: unknown): Defense {
  const entry = defenses.get(name);
  if (!entry.phases.includes('inspect'))
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `"${name}" is not a detector (it has no inspect phase); detectors: ${detectors().names().join(', ')}`,
    );
  return defenses.create(
    name,
    options ?? entry.example ?? {},
    withStageFactory({ clock: systemClock, log: silentLogger }),
  );
}

export function replayAuditRun(o: ReplayOptions, env: NodeJS.ProcessEnv = process.env): Promise<ReplayReport> {
  const detector = createDetector(o.detector, o.options);
  return withAuditStore(o, env, async (store) => {
    const tallies = new Map<string, ClientTally>();
    let records = 0;
    let rows = 0;
    let rowsWithoutInput = 0;
    const filter = {
      ...(o.model !== undefined ? { model: o.model } : {}),
      ...(o.client !== undefined ? { clientId: o.client } : {}),
      ...(o.since !== undefined ? { since: o.since } : {}),
      ...(o.until !== undefined ? { until: o.until } : {}),
    };
    try {
      for await (const page of auditPages(store, filter)) {
        for (const r of page) {
          if (r.outcome !== 'served') continue;
          const batch = recordBatch(r);
          if (!batch) continue;
          rowsWithoutInput += batch.skipped;
          const n = batch.labels.length;
          if (n === 0) continue;
          records++;
          rows += n;
          const t = tallies.get(r.clientId) ?? { requests: 0, rows: 0, flagged: 0 };
          tallies.set(r.clientId, t);
          t.requests++;
          t.rows += n;
          const info: ModelInfo = {
            name: r.model ?? 'unknown',
            inputShape: [batch.x.shape[1] ?? 0],
            classes: batch.scores?.shape[1] ?? Math.max(...batch.labels) + 1,
            output: batch.scores ? 'probs' : 'label',
            domain: { min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY },
          };
          const ctx = createContext({
            requestId: r.requestId,
            model: info,
            inputs: batch.x,
            at: r.at,
            credentials: { ip: r.ip },
            client: {
              id: r.clientId,
              source: r.clientId.startsWith('key:') ? 'api-key' : r.clientId.startsWith('ip:') ? 'ip' : 'defense',
              authenticated: true,
              ...(r.tier ? { tier: r.tier } : {}),
            },
          });
          ctx.raw = batch.scores
            ? { kind: 'probs', labels: batch.labels, scores: batch.scores }
            : { kind: 'label', labels: batch.labels };
          try {
            await detector.inspect?.(ctx);
          } catch (e) {
            if (!(e instanceof DefenseRejection)) throw e;
          }
          const verdict = ctx.flags.find((f) => f.stage === detector.name);
          if (verdict) {
            t.flagged++;
            t.first ??= { reason: verdict.reason, log: r.log, seq: r.seq, at: r.at, afterRows: t.rows };
          }
        }
      }
    } finally {
      await detector.close?.();
    }
    const clients = [...tallies.entries()]
      .map(([client, t]) => ({
        client,
        requests: t.requests,
        rows: t.rows,
        flaggedRequests: t.flagged,
        ...(t.first ? { firstVerdict: t.first } : {}),
      }))
      .sort((a, b) => (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
    return { url: store.url, detector: detector.name, records, rows, rowsWithoutInput, clients };
  });
}
