/**
 * @file GatewayMetrics: the gateway's Prometheus metrics, on a registry of its own (never prom-client's
 * global one: several gateways may share a process, tests do). Every label has a bounded set of
 * values: route templates ("POST /v1/models/:name/predict", never raw URLs), status codes, HEIST_ERR_*
 * codes, configured model and tier names, registered detector names; past `maxLabelValues` distinct
 * values of one label, further ones are counted as "other", so a bug or a hostile client cannot
 * grow the scrape without bound.
 */
import { verdictReasons } from '../defenses/detector-action.js';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type HeistErrorCode, errorCatalog } from '../core/errors.js';

/** What the rate limiter decided for a request ('store_unavailable_open': the store failed, fail-open admitted it). */
export type LimiterDecision = 'allowed' | 'limited' | 'store_unavailable' | 'store_unavailable_open';

export interface GatewayMetricsOptions {
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag, GC) into this registry. */
  readonly defaultMetrics?: boolean;
  /** Most distinct values one label keeps before counting the rest as "other" (default 200). */
  readonly maxLabelValues?: number;
}

export const OTHER_LABEL = 'other';

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const AUDIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const DECISIONS: ReadonlySet<string> = new Set<LimiterDecision>([
  'allowed',
  'limited',
  'store_unavailable',
  'store_unavailable_open',
]);

/** One label's values, capped: the first `max` distinct values pass, later new ones become "other". */
/** The verdict label's values: the detectors' reasons (anything else counts as `other`). */
const VERDICTS: ReadonlySet<string> = new Set(Object.values(verdictReasons));

class BoundedLabel {
  readonly #seen = new Set<string>();
  constructor(readonly max: number) {}

  value(v: string): string {
    if (this.#seen.has(v)) return v;
    if (this.#seen.size >= this.max) return OTHER_LABEL;
    this.#seen.add(v);
    return v;
  }
}

export class GatewayMetrics {
  /** This gateway's own registry (render() scrapes it). */
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'status'>;
  readonly #refusals: Counter<'code'>;
  readonly #duration: Histogram<'route'>;
  readonly #rows: Counter<'model'>;
  readonly #auditAppend: Histogram;
  readonly #auditFailures: Counter;
  readonly #limiter: Counter<'decision' | 'tier'>;
  readonly #detectorFlags: Counter<'detector' | 'verdict'>;
  readonly #routes: BoundedLabel;
  readonly #models: BoundedLabel;
  readonly #tiers: BoundedLabel;
  readonly #detectors: BoundedLabel;

  constructor(options: GatewayMetricsOptions = {}) {
    const max = options.maxLabelValues ?? 200;
    this.#routes = new BoundedLabel(max);
    this.#models = new BoundedLabel(max);
    this.#tiers = new BoundedLabel(max);
    this.#detectors = new BoundedLabel(max);
    const registers = [this.registry];
    this.#requests = new Counter({
      name: 'heist_http_requests_total',
      help: 'HTTP requests answered, by route template and status code',
      labelNames: ['route', 'status'],
      registers,
    });
    this.#refusals = new Counter({
      name: 'heist_refusals_total',
      help: 'Requests refused, by HEIST_ERR_* code',
      labelNames: ['code'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'heist_http_request_duration_seconds',
      help: 'Time from request arrival to the reply, by route template',
      labelNames: ['route'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#rows = new Counter({
      name: 'heist_rows_served_total',
      help: 'Input rows answered, by model',
      labelNames: ['model'],
      registers,
    });
    this.#auditAppend = new Histogram({
      name: 'heist_audit_append_seconds',
      help: 'Audit lag: time for an audit record to become durable',
      buckets: AUDIT_BUCKETS,
      registers,
    });
    this.#auditFailures = new Counter({
      name: 'heist_audit_failures_total',
      help: 'Audit records the store could not make durable',
      registers,
    });
    this.#limiter = new Counter({
      name: 'heist_limiter_decisions_total',
      help: 'Rate-limit decisions, by decision and tier',
      labelNames: ['decision', 'tier'],
      registers,
    });
    this.#detectorFlags = new Counter({
      name: 'heist_detector_flags_total',
      help: 'Requests a detector or defense stage flagged, by stage and verdict (suspected-extraction, degraded, blocked)',
      labelNames: ['detector', 'verdict'],
      registers,
    });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** One answered request: `route` is the route template (e.g. "POST /v1/models/:name/predict"), `seconds` its duration. */
  observeRequest(route: string, status: number, seconds: number): void {
    const r = this.#routes.value(route);
    const s = Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER_LABEL;
    this.#requests.inc({ route: r, status: s });
    if (Number.isFinite(seconds) && seconds >= 0) this.#duration.observe({ route: r }, seconds);
  }

  /** A refusal that went back with this code. */
  refusal(code: HeistErrorCode): void {
    this.#refusals.inc({ code: Object.hasOwn(errorCatalog, code) ? code : OTHER_LABEL });
  }

  rowsServed(model: string, rows: number): void {
    if (rows > 0) this.#rows.inc({ model: this.#models.value(model) }, rows);
  }

  /** Audit lag: seconds from handing a record to the store until it was durable. */
  observeAuditAppend(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.#auditAppend.observe(seconds);
  }

  auditFailure(): void {
    this.#auditFailures.inc();
  }

  limiterDecision(decision: LimiterDecision, tier: string | undefined): void {
    this.#limiter.inc({
      decision: DECISIONS.has(decision) ? decision : OTHER_LABEL,
      tier: this.#tiers.value(tier ?? 'none'),
    });
  }

  /** A request a stage flagged (detector: its registry name; verdict: the flag's reason, e.g. `blocked`). */
  detectorFlag(detector: string, verdict: string): void {
    this.#detectorFlags.inc({
      detector: this.#detectors.value(detector),
      verdict: VERDICTS.has(verdict) ? verdict : OTHER_LABEL,
    });
  }

  /** The Content-Type of render()'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric in this registry. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
