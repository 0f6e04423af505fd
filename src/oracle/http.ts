/**
 * @file httpOracle: a remote prediction API as an Oracle. encode -> fetch -> decode, nothing else:
 * no budget, cache or retry here (those are the query client's decorators). It reads the model's
 * info first (GET), splits calls larger than the server's maxBatch, and maps failures to codes:
 * 429 -> HEIST_ERR_RATE_LIMITED (details.retryAfterMs from Retry-After), any other 4xx/5xx, a
 * network failure or an unreadable body -> HEIST_ERR_UPSTREAM (details.status, details.retryable).
 */
import { HeistError, isHeistError } from '../core/errors.js';
import { type ModelInfo, type Prediction, inputSize } from '../core/prediction.js';
import { type Tensor, rowCount, rowSize, sliceRows } from '../core/tensor.js';
import { getWireFormat } from './formats/index.js';
import type { RemoteModelInfo, Target, WireFormat } from './formats/types.js';
import { concatPredictions, emptyPrediction } from './merge.js';
import type { Oracle, QueryOptions } from './types.js';

export interface HttpOracleOptions {
  /** A registered format name or a WireFormat (default 'heist-v1'). */
  readonly format?: string | WireFormat;
  /** Injected fetch (tests route it through fastify inject); default globalThis.fetch. */
  readonly fetch?: typeof fetch;
  /** Extra request headers, e.g. an API key. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Largest rows per request; default the server's declared maxBatch, else unlimited. */
  readonly maxBatch?: number;
  /** Model name when the URL is a bare base URL (default: the only model the server lists). */
  readonly model?: string;
  /** Per-request timeout (default 30000 ms); a timeout is a retryable network failure. */
  readonly timeoutMs?: number;
  /** Used to turn an HTTP-date Retry-After into a delay (default Date.now). */
  readonly now?: () => number;
}

export interface HttpOracle extends Oracle {
  readonly info: RemoteModelInfo;
  readonly url: string;
}

/** Retry-After (delta-seconds or HTTP-date) in ms, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface Ctx {
  readonly fetch: typeof fetch;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly format: WireFormat;
}

async function call(ctx: Ctx, url: string, init: RequestInit, signal?: AbortSignal): Promise<unknown> {
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  let text: string;
  try {
    res = await ctx.fetch(url, {
      ...init,
      headers: { accept: 'application/json', ...ctx.headers, ...(init.headers as Record<string, string>) },
      signal: sig,
    });
    text = await res.text();
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new HeistError('HEIST_ERR_UPSTREAM', `cannot reach ${url}: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
      details: { url, network: true, retryable: true },
    });
  }
  let body: unknown;
  let parsed = true;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = false;
  }
  if (!res.ok) {
    const err = parsed ? ctx.format.decodeError(body) : undefined;
    const details = {
      url,
      status: res.status,
      upstreamCode: err?.code,
      upstreamMessage: err?.message ?? text.slice(0, 200),
    };
    if (res.status === 429) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), ctx.now());
      throw new HeistError(
        'HEIST_ERR_RATE_LIMITED',
        `${init.method ?? 'GET'} ${url}: the target is rate limiting (429)${retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`}`,
        {
          details: { ...details, retryAfterMs, retryable: true },
        },
      );
    }
    throw new HeistError(
      'HEIST_ERR_UPSTREAM',
      `${init.method ?? 'GET'} ${url}: the target answered ${res.status}${err?.code ? ` ${err.code}` : ''}: ${details.upstreamMessage} (expected the ${ctx.format.name} format)`,
      {
        details: { ...details, retryable: res.status >= 500 },
      },
    );
  }
  if (!parsed) {
    throw new HeistError(
      'HEIST_ERR_UPSTREAM',
      `${init.method ?? 'GET'} ${url}: the target answered ${res.status} with a body that is not JSON (expected the ${ctx.format.name} format)`,
      {
        details: { url, status: res.status, retryable: false, body: text.slice(0, 200) },
      },
    );
  }
  return body;
}

async function resolveModel(ctx: Ctx, target: Target): Promise<Required<Target>> {
  if (target.model !== undefined) return { base: target.base, model: target.model };
  if (!ctx.format.listUrl || !ctx.format.decodeList) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `the URL names no model and ${ctx.format.name} cannot list models; pass a model name`,
    );
  }
  const names = ctx.format.decodeList(await call(ctx, ctx.format.listUrl(target.base), { method: 'GET' }));
  if (names.length !== 1) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `the URL names no model and the server serves ${names.length}: ${names.join(', ')}; pass one`,
      {
        details: { models: names },
      },
    );
  }
  return { base: target.base, model: names[0] };
}

/** Connects to a target: reads its info (GET), then answers query() by POSTing rows. */
export async function httpOracle(url: string, options: HttpOracleOptions = {}): Promise<HttpOracle> {
  const format = typeof options.format === 'object' ? options.format : getWireFormat(options.format ?? 'heist-v1');
  const ctx: Ctx = {
    fetch: options.fetch ?? globalThis.fetch,
    headers: { ...format.requestHeaders?.(), ...options.headers },
    timeoutMs: options.timeoutMs ?? 30_000,
    now: options.now ?? Date.now,
    format,
  };
  const parsed = format.parseTarget(url);
  const target = await resolveModel(ctx, options.model !== undefined ? { ...parsed, model: options.model } : parsed);
  const infoUrl = format.infoUrl(target);
  const infoBody = infoUrl === undefined ? undefined : await call(ctx, infoUrl, { method: 'GET' });
  const info = withUrl(infoUrl === undefined ? url : `GET ${infoUrl}`, () => format.decodeInfo(infoBody));
  const maxBatch = Math.min(
    options.maxBatch ?? Infinity,
    info.maxBatch ?? Infinity,
    format.limits?.maxBatch ?? Infinity,
  );
  if (!(maxBatch >= 1))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `maxBatch must be at least 1, got ${options.maxBatch}`);
  const size = inputSize(info);
  const predictUrl = format.predictUrl(target);

  const send = async (x: Tensor, signal?: AbortSignal): Promise<Prediction> => {
    const bin = format.encodePredictBinary?.(x, info);
    const answer = await call(
      ctx,
      predictUrl,
      {
        method: format.predictMethod ?? 'POST',
        body: bin ? bin.body : format.encodePredict(x, info),
        headers: { 'content-type': bin ? bin.contentType : 'application/json' },
      },
      signal,
    );
    return withUrl(`POST ${predictUrl}`, () => format.decodePredict(answer, rowCount(x), info));
  };

  return {
    info,
    url: predictUrl,
    ...(Number.isFinite(maxBatch) ? { maxBatch } : {}),
    ...(format.limits?.rate ? { rate: format.limits.rate } : {}),
    ...(format.limits?.pricePer1k !== undefined ? { pricePer1k: format.limits.pricePer1k } : {}),
    async query(x: Tensor, opts: QueryOptions = {}): Promise<Prediction> {
      checkRows(x, size, info);
      const n = rowCount(x);
      if (n === 0) return emptyPrediction(info);
      const parts: Prediction[] = [];
      for (let start = 0; start < n; start += maxBatch) {
        opts.signal?.throwIfAborted();
        parts.push(await send(start === 0 && n <= maxBatch ? x : sliceRows(x, start, start + maxBatch), opts.signal));
      }
      return concatPredictions(parts, info.classes);
    },
  };
}

/** A malformed answer's error, naming the request it answered (the format is in its message). */
function withUrl<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isHeistError(e, 'HEIST_ERR_UPSTREAM'))
      throw new HeistError(e.code, `${where}: ${e.message}`, { details: e.details, cause: e });
    throw e;
  }
}

function checkRows(x: Tensor, size: number, info: ModelInfo): void {
  if (x.shape.length < 1 || (rowCount(x) > 0 && rowSize(x) !== size)) {
    throw new HeistError(
      'HEIST_ERR_SHAPE',
      `rows of shape [${x.shape.slice(1)}] do not fit ${info.name}'s input [${info.inputShape}]`,
    );
  }
}
