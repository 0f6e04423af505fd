/**
 * @file The defense seam: a Defense is one stage of a model's pipeline, with optional methods for
 * the named phases admit -> (infer) -> inspect -> transform -> record. Defenses know nothing about
 * HTTP: the gateway turns a request into a QueryContext, and a DefenseRejection back into a status.
 */
import { HeistError, errorCatalog, type HeistErrorCode } from '../core/errors.js';
import type { ModelInfo, Prediction, RequestedOutput } from '../core/prediction.js';
import type { Tensor } from '../core/tensor.js';
import type { RegistryEntry } from '../core/registry.js';
import type { Awaitable, Clock, Logger } from '../core/types.js';

/** Who is asking. The gateway sets a provisional identity; an authenticating admit stage may replace it. */
export interface ClientIdentity {
  /** Stable id for per-client state: `key:<sha256 prefix of the API key>` or `ip:<address>`. */
  readonly id: string;
  readonly source: 'api-key' | 'ip' | 'defense';
  /** True only once a stage has verified the credentials. */
  readonly authenticated: boolean;
  /** Free-form tier name a stage may attach (e.g. for per-tier rate limits). */
  readonly tier?: string;
}

/** What the request carried. The raw API key never leaves the context (ids use a hash). */
export interface QueryCredentials {
  readonly apiKey?: string;
  readonly ip: string;
}

/** A detector's or stage's note about a query; transforms may read them (adaptive defenses). */
export interface Flag {
  readonly stage: string;
  readonly reason: string;
  readonly score?: number;
}

export type { RequestedOutput } from '../core/prediction.js';

export interface QueryContext {
  readonly requestId: string;
  /** The model as served (its `name` is the served name). */
  readonly model: ModelInfo;
  /** Shape [n, ...model.inputShape]; values finite (validated before the pipeline runs). */
  readonly inputs: Tensor;
  /** Milliseconds since the epoch, from the injected Clock. */
  readonly at: number;
  readonly credentials: QueryCredentials;
  client: ClientIdentity;
  /** The model's own output; set by the pipeline after inference, read-only to stages. */
  raw?: Prediction;
  /** Stages append; never reassign. */
  readonly flags: Flag[];
  readonly requested: RequestedOutput;
}

export interface DefenseRejectionOptions {
  /** Overrides the catalog status (a rejection always has one; 403 when the catalog has none). */
  readonly status?: number;
  readonly details?: unknown;
  /** Extra response headers, e.g. { 'retry-after': '30' }. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/** Thrown by admit or inspect to refuse a query. The only error a stage may throw on purpose. */
export class DefenseRejection extends HeistError {
  readonly headers: Readonly<Record<string, string>>;
  declare readonly status: number;

  constructor(code: HeistErrorCode, message: string, options: DefenseRejectionOptions = {}) {
    super(code, message, {
      details: options.details,
      cause: options.cause,
      status: options.status ?? errorCatalog[code].status ?? 403,
    });
    this.name = 'DefenseRejection';
    this.headers = options.headers ?? {};
  }
}

export function isDefenseRejection(e: unknown): e is DefenseRejection {
  return e instanceof DefenseRejection;
}

/** What was decided for a query: the served prediction, or the rejection. */
export type Served = Prediction | DefenseRejection;

export interface Defense {
  readonly name: string;
  /** Before inference. Throw DefenseRejection (401/403/429) to refuse. May set ctx.client. */
  admit?(ctx: QueryContext): Awaitable<void>;
  /** After inference, before perturbation. Sees inputs + ctx.raw. May add flags or throw DefenseRejection. */
  inspect?(ctx: QueryContext): Awaitable<void>;
  /** Returns the output to serve. Runs in configured order; each stage sees the previous stage's output. */
  transform?(ctx: QueryContext, out: Prediction): Awaitable<Prediction>;
  /** After the reply is decided. Cannot change it; errors are logged, never thrown. */
  record?(ctx: QueryContext, served: Served): Awaitable<void>;
  /** Startup check: this stage needs probability scores (fails at boot after a score-dropping stage). */
  readonly requires?: { readonly scores?: boolean };
  /** True when this stage's transform strips scores (e.g. label-only); later stages then see none. */
  readonly dropsScores?: boolean;
  close?(): Awaitable<void>;
}

/** Shared resources handed to defense factories; no module-level singletons. */
export interface DefenseDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** Keys per-input randomness; the gateway passes one per deployment (never logged or put in errors). */
  readonly secret?: Buffer;
  /**
   * Builds another registered stage (a detector's degrade stage), with its entry's phases and
   * label promise; createDefenses supplies it.
   */
  readonly createStage?: (spec: DefenseSpec) => {
    readonly stage: Defense;
    readonly phases: readonly DefensePhase[];
    readonly changesLabels: boolean;
  };
}

/** One configured stage: a registry name and its options. */
export interface DefenseSpec {
  readonly name: string;
  readonly options?: unknown;
}

/** The pipeline phases a stage may act in, in the order they run (inference sits between admit and inspect). */
export const defensePhases = ['admit', 'inspect', 'transform', 'record'] as const;
export type DefensePhase = (typeof defensePhases)[number];

export interface DefenseEntry<O = unknown> extends RegistryEntry<O, DefenseDeps, Defense> {
  /** The phases the stage acts in: it implements exactly these methods (test/conformance/defenses checks). */
  readonly phases: readonly DefensePhase[];
  /** True when the stage may change a served top-1 label (said in its docs and its numbers). */
  readonly changesLabels: boolean;
  /** A finer answer for given options (e.g. the watermark's runner-up mode keeps labels); absent: changesLabels. */
  changesLabelsWith?(options: O): boolean;
  /**
   * How far a served probability vector may sum from 1 with these options, for stages that round
   * (k/2 x 10^-decimals for k classes); absent: float32 accuracy (1e-5).
   */
  massError?(options: O, classes: number): number;
}
