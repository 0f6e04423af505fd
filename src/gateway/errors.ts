/**
 * @file Maps every failure to the one error body the gateway speaks:
 * {"error": {"code": "HEIST_ERR_...", "message": "..."}} with the catalog's status. Fastify's own
 * errors (body parsing, size, media type, bad URLs) are translated; anything unknown is a 500
 * HEIST_ERR_INTERNAL whose details stay in the log.
 */
import type { FastifyReply } from 'fastify';
import { HeistError, type HeistErrorCode, errorCatalog } from '../core/errors.js';
import { DefenseRejection } from '../defenses/types.js';

export interface ErrorBody {
  error: { code: HeistErrorCode; message: string };
}

export interface MappedError {
  readonly status: number;
  readonly code: HeistErrorCode;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** True for 5xx: a server bug worth logging with its stack. */
  readonly internal: boolean;
}

/** Fastify's error codes -> ours, with fixed messages (fastify's may echo the URL). */
const fastifyCodes: Readonly<Record<string, { readonly code: HeistErrorCode; readonly message: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'HEIST_ERR_BODY_TOO_LARGE',
    message: 'the request body is larger than this server allows',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'HEIST_ERR_UNSUPPORTED_MEDIA_TYPE',
    message:
      'the request body must be application/json, or application/octet-stream (float32 rows) on POST /v1/models/{name}/predict',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'HEIST_ERR_BAD_JSON', message: 'the request body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'HEIST_ERR_BAD_JSON', message: 'the request body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'HEIST_ERR_BAD_BODY',
    message: 'the request body size does not match Content-Length',
  },
  FST_ERR_BAD_URL: { code: 'HEIST_ERR_NOT_FOUND', message: 'no such route (malformed URL)' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'HEIST_ERR_UNKNOWN_MODEL', message: 'no model of that name is served' },
};

function catalogStatus(code: HeistErrorCode): number {
  return errorCatalog[code].status ?? 500;
}

export function mapError(err: unknown): MappedError {
  if (err instanceof DefenseRejection) {
    return { status: err.status, code: err.code, message: err.message, headers: err.headers, internal: false };
  }
  if (err instanceof HeistError) {
    const status = err.status;
    // 4xx, and the 503s that mean "not now" (shutting down, audit or limit store unavailable).
    if (status !== undefined && ((status >= 400 && status < 500) || status === 503)) {
      return { status, code: err.code, message: err.message, internal: false };
    }
    return { status: 500, code: 'HEIST_ERR_INTERNAL', message: 'internal error', internal: true };
  }
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  const fcode = typeof e?.code === 'string' ? e.code : undefined;
  const mapped = fcode !== undefined ? fastifyCodes[fcode] : undefined;
  if (mapped)
    return { status: catalogStatus(mapped.code), code: mapped.code, message: mapped.message, internal: false };
  const sc = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (sc !== undefined && sc >= 400 && sc < 500) {
    // Some other client error fastify detected: keep it a 4xx with a stable code.
    return {
      status: 400,
      code: 'HEIST_ERR_BAD_BODY',
      message: errorCatalog.HEIST_ERR_BAD_BODY.summary,
      internal: false,
    };
  }
  return { status: 500, code: 'HEIST_ERR_INTERNAL', message: 'internal error', internal: true };
}

export function errorBody(code: HeistErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

export function sendError(
  reply: FastifyReply,
  m: Pick<MappedError, 'status' | 'code' | 'message' | 'headers'>,
): FastifyReply {
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) reply.header(k, v);
  // The audit hook reads the code of what went back.
  if (reply.request.heist) reply.request.heist.code = m.code;
  return reply.code(m.status).type('application/json; charset=utf-8').send(errorBody(m.code, m.message));
}
