/**
 * @file Who may ask, and how much: API-key authentication, tiers, and the rate limits of each tier
 * (per key, and shared by all keys of a tier), in requests and in rows, per second, minute and UTC
 * day. The counters live in a LimitStore (in-process, or Redis shared by replicas); when the store
 * cannot answer, the configured fail mode decides, loudly.
 */
import { HeistError } from '../core/errors.js';
import type { Logger } from '../core/types.js';
import type { ClientIdentity } from '../defenses/types.js';
import { DefenseRejection } from '../defenses/types.js';
import type { CounterCheck, LimitStore } from '../store/limits/types.js';
import { type KeyRing, secretMatches } from './keys.js';

export const WINDOWS = { second: 1000, minute: 60_000, day: 86_400_000 } as const;
export type WindowName = keyof typeof WINDOWS;
export const UNITS = ['requests', 'rows'] as const;
export type Unit = (typeof UNITS)[number];

/** Most requests / rows per window; an absent entry is unlimited. */
export type LimitTable = Partial<Record<Unit, Partial<Record<WindowName, number>>>>;

export interface Tier {
  /** Limits each key of the tier gets. */
  readonly perKey?: LimitTable;
  /** Limits all keys of the tier share (catches one customer spreading load over many keys). */
  readonly shared?: LimitTable;
}

export type FailMode = 'open' | 'closed';

export interface AccessPolicy {
  readonly keys: KeyRing;
  readonly tiers: Readonly<Record<string, Tier>>;
  /** Unset: a key is required. Set: requests without a key are served as this tier, identified by IP. */
  readonly anonymousTier?: string;
  /** SHA-256 of the admin key; unset: the admin routes are off. */
  readonly adminKeySha256?: Buffer;
  readonly limiter?: { readonly store: LimitStore; readonly failMode: FailMode };
}

export interface Verified extends ClientIdentity {
  readonly tier: string;
}

export type LimitOutcome = 'allowed' | 'limited' | 'store_unavailable_open';

const unauthorized = (message: string): DefenseRejection =>
  new DefenseRejection('HEIST_ERR_UNAUTHORIZED', message, {
    headers: { 'www-authenticate': 'ApiKey header="x-api-key"' },
  });

/** The identity a request is served under, from a verified key or (if enabled) the IP. */
export function authenticate(policy: AccessPolicy, apiKey: string | undefined, ip: string, now: number): Verified {
  if (apiKey === undefined) {
    if (policy.anonymousTier === undefined) throw unauthorized('this server needs an API key in the x-api-key header');
    return { id: `ip:${ip}`, source: 'ip', authenticated: false, tier: policy.anonymousTier };
  }
  const c = policy.keys.check(apiKey, now);
  if (!c.ok) {
    // One message for unknown and malformed keys: the caller learns nothing about which ids exist.
    const why =
      c.reason === 'revoked'
        ? 'the API key is revoked'
        : c.reason === 'expired'
          ? 'the API key has expired'
          : 'the API key is not valid';
    throw unauthorized(why);
  }
  // A key file shared by several deployments may hold tiers this one does not serve.
  if (!policy.tiers[c.record.tier]) throw unauthorized('the API key is not valid on this server');
  return { id: `key:${c.record.id}`, source: 'api-key', authenticated: true, tier: c.record.tier };
}

export function isAdmin(policy: AccessPolicy, presented: string | undefined): boolean {
  return (
    policy.adminKeySha256 !== undefined && presented !== undefined && secretMatches(presented, policy.adminKeySha256)
  );
}

function countersFor(prefix: string, table: LimitTable | undefined, rows: number, out: CounterCheck[]): void {
  if (!table) return;
  for (const unit of UNITS) {
    const windows = table[unit];
    if (!windows) continue;
    for (const w of Object.keys(WINDOWS) as WindowName[]) {
      const limit = windows[w];
      if (limit === undefined) continue;
      out.push({ key: `${prefix}:${unit}:${w}`, windowMs: WINDOWS[w], limit, cost: unit === 'rows' ? rows : 1 });
    }
  }
}

/** The counters one request of `rows` rows touches. */
export function countersOf(policy: AccessPolicy, who: Verified, rows: number): CounterCheck[] {
  const tier = policy.tiers[who.tier];
  const out: CounterCheck[] = [];
  countersFor(`c:${who.id}`, tier?.perKey, rows, out);
  countersFor(`t:${who.tier}`, tier?.shared, rows, out);
  return out;
}

function describe(c: CounterCheck): string {
  const [scope, , unit, window] = c.key.split(':');
  const whose = scope === 't' ? 'this tier' : 'this key';
  return `${whose} may send ${c.limit} ${unit} per ${window}`;
}

/**
 * Admits the request or throws 429 HEIST_ERR_RATE_LIMITED with Retry-After (seconds, rounded up).
 * When the store fails: fail-closed throws 503 HEIST_ERR_LIMITS_UNAVAILABLE; fail-open admits and
 * logs an error. Returns what was decided, for metrics.
 */
export async function enforceLimits(
  policy: AccessPolicy,
  who: Verified,
  rows: number,
  now: number,
  log: Logger,
): Promise<LimitOutcome> {
  const limiter = policy.limiter;
  if (!limiter) return 'allowed';
  const checks = countersOf(policy, who, rows);
  if (checks.length === 0) return 'allowed';
  let decision: Awaited<ReturnType<LimitStore['consume']>>;
  try {
    decision = await limiter.store.consume(checks, now);
  } catch (e) {
    if (limiter.failMode === 'open') {
      log.error('rate-limit store unavailable; admitting (fail-open)', { store: limiter.store.url, err: String(e) });
      return 'store_unavailable_open';
    }
    throw new DefenseRejection(
      'HEIST_ERR_LIMITS_UNAVAILABLE',
      'the rate-limit store cannot be reached; try again shortly',
      {
        headers: { 'retry-after': '1' },
      },
    );
  }
  if (decision.allowed) return 'allowed';
  const c = checks[decision.violated];
  const retry = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  if (c.cost > c.limit)
    throw new DefenseRejection('HEIST_ERR_RATE_LIMITED', `${describe(c)}; this request alone has ${c.cost}`, {
      status: 429,
    });
  throw new DefenseRejection('HEIST_ERR_RATE_LIMITED', `${describe(c)}; retry in ${retry} s`, {
    headers: { 'retry-after': String(retry) },
  });
}

/** Startup check: every key's tier and the anonymous tier exist. */
export function checkPolicy(policy: AccessPolicy): void {
  const tiers = Object.keys(policy.tiers);
  if (policy.anonymousTier !== undefined && !tiers.includes(policy.anonymousTier))
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `anonymous tier "${policy.anonymousTier}" is not among the tiers (${tiers.join(', ')})`,
    );
  for (const k of policy.keys.records())
    if (!tiers.includes(k.tier) && k.revokedAt === undefined)
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `key ${k.id} has tier "${k.tier}", which is not among the tiers (${tiers.join(', ')})`,
      );
}
