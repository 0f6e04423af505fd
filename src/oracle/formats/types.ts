/**
 * @file Wire formats: how one target API spells "describe the model", "predict these rows" and
 * "that failed". A format only builds URLs and bodies and decodes answers; http.ts does the fetching.
 * Each format also states the server's half (encodeAnswer, decodeRequest, encodeInfo), so that the
 * wire-format conformance suite can round-trip every output kind and tests can stand up a server
 * in the format. Add one: a file (or folder) here named after the format exporting a
 * WireFormatEntry, plus one line in index.ts.
 */
import type { ModelInfo, OutputKind, Prediction } from '../../core/prediction.js';
import type { RateLimit } from '../../core/rate.js';
import type { RegistryEntry } from '../../core/registry.js';
import type { Tensor } from '../../core/tensor.js';

/** Where a model lives: the server's base URL and the model's name (absent: ask the server). */
export interface Target {
  readonly base: string;
  readonly model?: string;
}

/** What the info endpoint declares, beyond ModelInfo: the largest batch the server accepts. */
export interface RemoteModelInfo extends ModelInfo {
  readonly maxBatch?: number;
  /** The model answers rows with missing features (NaN, sent as null), e.g. a tree that stops at the node. */
  readonly acceptsMissing?: boolean;
  /** The server declares that it takes float32 request bodies (heist-v1's binaryInputs). */
  readonly acceptsBinary?: boolean;
}

/** A decoded error body. */
export interface WireError {
  readonly code?: string;
  readonly message?: string;
}

export interface WireFormat {
  readonly name: string;
  /**
   * What the format can carry, so that the conformance suite checks just that: the output kinds its
   * answers can express; leaf ids per prediction; and how much of ModelInfo its info body holds:
   * 'full' (heist-v1), 'shape' (name, shapes, classes, output kind; the rest from the options,
   * hints.ts) or 'static' (nothing to read: the options describe the model, as a mapping file does).
   */
  readonly capabilities: {
    readonly outputs: readonly OutputKind[];
    readonly leafIds: boolean;
    readonly info: 'full' | 'shape' | 'static';
  };
  /** Splits a user-supplied URL into base + model name. */
  parseTarget(url: string): Target;
  /** GET this URL to list the served models (absent: the format cannot list). */
  listUrl?(base: string): string;
  /** Model names out of the list answer. Throws HeistError('HEIST_ERR_UPSTREAM') when unreadable. */
  decodeList?(body: unknown): string[];
  /** GET this URL to read the model's info; undefined when the format knows it already (decodeInfo(undefined)). */
  infoUrl(target: Required<Target>): string | undefined;
  decodeInfo(body: unknown): RemoteModelInfo;
  /** Headers every request carries (e.g. an API key from a mapping file), below the caller's own. */
  requestHeaders?(): Readonly<Record<string, string>>;
  /** The predict request's method (default POST). */
  readonly predictMethod?: 'POST' | 'PUT';
  /** What the target publishes about its limits and price (a mapping file); the client keeps to them. */
  readonly limits?: { readonly maxBatch?: number; readonly rate?: RateLimit; readonly pricePer1k?: number };
  /** POST this URL with encodePredict's body to buy answers. */
  predictUrl(target: Required<Target>): string;
  /** JSON body text for x, whose rows are flattened. */
  encodePredict(x: Tensor, info: ModelInfo): string;
  /** A binary predict body in place of encodePredict's JSON (heist-v1), or undefined to send JSON; answers stay JSON. */
  encodePredictBinary?(
    x: Tensor,
    info: ModelInfo,
  ): { readonly body: Uint8Array<ArrayBuffer>; readonly contentType: string } | undefined;
  /** One answer per row of the request; throws HeistError('HEIST_ERR_UPSTREAM') on a malformed body. */
  decodePredict(body: unknown, rows: number, info: ModelInfo): Prediction;
  /** The code and message of an error body, when it has that shape. */
  decodeError(body: unknown): WireError | undefined;
  /** Server half: the answer body (JSON text) a server in this format sends for p; decodePredict inverts it. */
  encodeAnswer(p: Prediction, info: ModelInfo): string;
  /** Server half: the rows a server reads from encodePredict's (parsed) body; 4xx HeistError on bad input. */
  decodeRequest(body: unknown, info: RemoteModelInfo): Tensor;
  /** Server half: the info body a server sends; decodeInfo inverts it. */
  encodeInfo(info: RemoteModelInfo): unknown;
}

export type WireFormatEntry<O = unknown> = RegistryEntry<O, undefined, WireFormat>;
