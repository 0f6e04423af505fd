/**
 * @file The error catalog. Every failure Heist reports on purpose carries a stable HEIST_ERR_* code,
 * and, where it crosses HTTP, a status. Tests assert on codes, never on message text.
 */
export const errorCatalog = {
  HEIST_ERR_SHAPE: { status: 400, summary: 'input has the wrong shape or length' },
  HEIST_ERR_BAD_JSON: { status: 400, summary: 'request body is not valid JSON' },
  HEIST_ERR_BAD_BODY: { status: 400, summary: 'request body does not match the expected format' },
  HEIST_ERR_EMPTY_BATCH: { status: 400, summary: 'the batch has no rows' },
  HEIST_ERR_NOT_FINITE: { status: 400, summary: 'an input value is NaN, Infinity or not a number' },
  HEIST_ERR_BATCH_TOO_LARGE: { status: 413, summary: 'the batch has more rows than the server allows' },
  HEIST_ERR_BODY_TOO_LARGE: { status: 413, summary: 'the request body is larger than the server allows' },
  HEIST_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary:
      'the request body must be application/json (or application/octet-stream where a route takes binary bodies)',
  },
  HEIST_ERR_UNKNOWN_MODEL: { status: 404, summary: 'no model of that name is served' },
  HEIST_ERR_NOT_FOUND: { status: 404, summary: 'no such route' },
  HEIST_ERR_METHOD_NOT_ALLOWED: { status: 405, summary: 'method not allowed on this route' },
  HEIST_ERR_RATE_LIMITED: { status: 429, summary: 'too many requests' },
  HEIST_ERR_UNAUTHORIZED: { status: 401, summary: 'missing or invalid API key' },
  HEIST_ERR_FORBIDDEN: { status: 403, summary: 'a defense refused to answer this query' },
  HEIST_ERR_BUDGET_EXHAUSTED: { status: undefined, summary: 'the query budget is spent' },
  HEIST_ERR_UPSTREAM: { status: 502, summary: 'the target answered with an error or an unreadable body' },
  HEIST_ERR_BAD_CONFIG: { status: undefined, summary: 'invalid configuration or command-line flags' },
  HEIST_ERR_BAD_MODEL: { status: undefined, summary: 'the model file cannot be loaded or is not a classifier' },
  HEIST_ERR_BAD_DATA: { status: undefined, summary: 'a data file is missing or malformed' },
  HEIST_ERR_RESUME: { status: undefined, summary: 'cannot resume: the saved run does not match' },
  HEIST_ERR_REQUIREMENTS: { status: undefined, summary: 'the plan needs something the target does not offer' },
  HEIST_ERR_OUT_OF_DOMAIN: { status: 400, summary: "an input value is outside the model's declared input domain" },
  HEIST_ERR_KEY_IN_URL: { status: 400, summary: 'API keys go in the x-api-key header, never in the URL' },
  HEIST_ERR_BAD_CHARSET: { status: 415, summary: 'the request body must be UTF-8' },
  HEIST_ERR_REQUEST_TIMEOUT: { status: 408, summary: 'the request was not received in time' },
  HEIST_ERR_AUDIT_UNAVAILABLE: {
    status: 503,
    summary: 'the audit log cannot record this request, so it is not answered',
  },
  HEIST_ERR_LIMITS_UNAVAILABLE: {
    status: 503,
    summary: 'the rate-limit store cannot be reached, so the request is refused',
  },
  HEIST_ERR_OVERLOADED: { status: 503, summary: 'the server is too busy to read this request now' },
  HEIST_ERR_SHUTTING_DOWN: { status: 503, summary: 'the server is shutting down' },
  HEIST_ERR_AUDIT_TAMPERED: { status: undefined, summary: 'the audit log hash chain does not verify' },
  HEIST_ERR_INTERNAL: { status: 500, summary: 'internal error' },
} as const;

export type HeistErrorCode = keyof typeof errorCatalog;

export class HeistError extends Error {
  readonly code: HeistErrorCode;
  readonly status: number | undefined;
  readonly details: unknown;

  constructor(
    code: HeistErrorCode,
    message: string,
    options: { details?: unknown; cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeistError';
    this.code = code;
    this.status = options.status ?? errorCatalog[code].status;
    this.details = options.details;
  }

  toJSON(): { code: HeistErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isHeistError(e: unknown, code?: HeistErrorCode): e is HeistError {
  return e instanceof HeistError && (code === undefined || e.code === code);
}
