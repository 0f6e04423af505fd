/**
 * @file installBodyParsers(app): the gateway's only request-body parsers, built to refuse cheaply.
 *   application/json          UTF-8 only (a declared charset other than utf-8/utf8 is 415
 *                             HEIST_ERR_BAD_CHARSET, refused before the body is read); nesting deeper
 *                             than maxDepth is 400 HEIST_ERR_BAD_JSON, found by one linear pass over
 *                             the raw bytes before JSON.parse runs; empty or invalid: 400 HEIST_ERR_BAD_JSON.
 *   application/octet-stream  the raw body as a Buffer (the binary predict body), on the routes named
 *                             in binaryRoutes only; elsewhere 415 before the body is read.
 *   anything else             415 HEIST_ERR_UNSUPPORTED_MEDIA_TYPE, before the body is read.
 * Sizes are fastify's bodyLimit, enforced while the body streams in. Plain JSON.parse, no
 * secure-json-parse rescan: decoders never merge objects and reject unknown keys (see server.ts).
 * Call it on the root instance before any route or plugin is registered: parsers and hooks are
 * copied into child contexts when those are created.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HeistError } from '../core/errors.js';

export interface BodyParserOptions {
  /** Most nested arrays/objects a JSON body may open (default 8; valid gateway bodies need at most 3). */
  readonly maxDepth?: number;
  /** Byte limit for JSON bodies (default: the app's bodyLimit). */
  readonly jsonBodyLimit?: number;
  /** Byte limit for octet-stream bodies (default: the app's bodyLimit). */
  readonly binaryBodyLimit?: number;
  /** Route templates that take application/octet-stream (default: the predict route). */
  readonly binaryRoutes?: readonly string[];
}

export const DEFAULT_MAX_DEPTH = 8;
export const DEFAULT_BINARY_ROUTES: readonly string[] = ['/v1/models/:name/predict'];

const UNSUPPORTED =
  'the request body must be application/json, or application/octet-stream (float32 rows) on POST /v1/models/{name}/predict';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** Index of the closing quote of the string whose opening quote is at `open`, or -1 when unterminated. */
function stringEnd(b: Uint8Array, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0) return -1;
    // A quote preceded by an odd run of backslashes is escaped.
    let k = q - 1;
    while (k > open && b[k] === BACKSLASH) k--;
    if (((q - 1 - k) & 1) === 0) return q;
    from = q + 1;
  }
}

/** Byte classes for the dense scan: 1 opens, 2 closes, 3 starts a string. */
const CLASS = new Uint8Array(256);
CLASS[OPEN_ARRAY] = 1;
CLASS[OPEN_OBJECT] = 1;
CLASS[CLOSE_ARRAY] = 2;
CLASS[CLOSE_OBJECT] = 2;
CLASS[QUOTE] = 3;

/** Byte-by-byte scan from `i` at depth `depth`: for bodies dense in brackets and strings. */
function denseScan(b: Uint8Array, i: number, depth: number, maxDepth: number): number {
  const n = b.length;
  let d = depth;
  for (; i < n; i++) {
    const c = CLASS[b[i]];
    if (c === 0) continue;
    if (c === 1) {
      if (++d > maxDepth) return i;
    } else if (c === 2) d--;
    else {
      const e = stringEnd(b, i);
      if (e < 0) return -1;
      i = e;
    }
  }
  return -1;
}

/** The next index of byte `c` at or after `from`, or `n` when there is none. */
function next(b: Uint8Array, c: number, from: number, n: number): number {
  const i = b.indexOf(c, from);
  return i < 0 ? n : i;
}

/** Hits per density check, and the fewest bytes per hit that keeps the jumping scan worthwhile. */
const WINDOW = 256;
const MIN_GAP = 16;

/**
 * Where a JSON text (UTF-8 bytes) first opens more than `maxDepth` nested arrays/objects, or -1.
 * Brackets inside strings do not count (escaped quotes are honoured). One linear pass: it jumps
 * between structural bytes with native indexOf (a predict body is mostly digits), and falls back to
 * a byte loop when they are dense, so no input costs more than one byte loop. UTF-8 continuation
 * bytes are never ASCII, so scanning bytes is exact. It does not validate: JSON.parse does that.
 */
export function jsonDepthExceeded(b: Uint8Array, maxDepth: number): number {
  const n = b.length;
  let oa = next(b, OPEN_ARRAY, 0, n);
  let oo = next(b, OPEN_OBJECT, 0, n);
  let ca = next(b, CLOSE_ARRAY, 0, n);
  let co = next(b, CLOSE_OBJECT, 0, n);
  let qt = next(b, QUOTE, 0, n);
  let d = 0;
  let hits = 0;
  let windowStart = 0;
  for (;;) {
    const i = Math.min(oa, oo, ca, co, qt);
    if (i >= n) return -1;
    if (++hits === WINDOW) {
      if (i - windowStart < WINDOW * MIN_GAP) return denseScan(b, i, d, maxDepth);
      hits = 0;
      windowStart = i;
    }
    if (i === qt) {
      const e = stringEnd(b, i);
      if (e < 0) return -1;
      const from = e + 1;
      // Pointers that fell inside the string move past it.
      if (oa < from) oa = next(b, OPEN_ARRAY, from, n);
      if (oo < from) oo = next(b, OPEN_OBJECT, from, n);
      if (ca < from) ca = next(b, CLOSE_ARRAY, from, n);
      if (co < from) co = next(b, CLOSE_OBJECT, from, n);
      qt = next(b, QUOTE, from, n);
    } else if (i === oa || i === oo) {
      if (++d > maxDepth) return i;
      if (i === oa) oa = next(b, OPEN_ARRAY, i + 1, n);
      else oo = next(b, OPEN_OBJECT, i + 1, n);
    } else {
      d--;
      if (i === ca) ca = next(b, CLOSE_ARRAY, i + 1, n);
      else co = next(b, CLOSE_OBJECT, i + 1, n);
    }
  }
}

/** True for a content-type whose charset parameter is absent or UTF-8 (utf-8, utf8; any case, quoted or not). */
export function isUtf8ContentType(contentType: string): boolean {
  const parts = contentType.split(';');
  for (let i = 1; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    if (eq < 0 || parts[i].slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    let v = parts[i]
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    if (v !== 'utf-8' && v !== 'utf8') return false;
  }
  return true;
}

function mediaType(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** Registers the parsers and the pre-read checks (module comment); replaces fastify's defaults. */
export function installBodyParsers(app: FastifyInstance, options: BodyParserOptions = {}): void {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `maxDepth must be a positive integer, got ${maxDepth}`);
  const binaryRoutes = new Set(options.binaryRoutes ?? DEFAULT_BINARY_ROUTES);

  app.removeAllContentTypeParsers();

  // Refusals that need only the headers happen here, before a byte of the body is read.
  // Callback style: an async hook costs a promise and a microtask hop per request.
  app.addHook('preParsing', (request: FastifyRequest, reply: FastifyReply, payload, done) => {
    const ct = request.headers['content-type'];
    if (ct === undefined || request.is404) return done(null, payload);
    const type = mediaType(ct);
    let refusal: HeistError | undefined;
    if (type === 'application/json') {
      if (!isUtf8ContentType(ct))
        refusal = new HeistError(
          'HEIST_ERR_BAD_CHARSET',
          'the request body must be UTF-8: send application/json with no charset or charset=utf-8',
        );
    } else if (type === 'application/octet-stream') {
      const url = request.routeOptions.url;
      if (url === undefined || !binaryRoutes.has(url))
        refusal = new HeistError('HEIST_ERR_UNSUPPORTED_MEDIA_TYPE', 'this route takes application/json bodies only');
    }
    if (!refusal) return done(null, payload);
    // The body stays unread: the connection cannot be reused.
    reply.header('connection', 'close');
    done(refusal);
  });

  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', ...(options.jsonBodyLimit !== undefined ? { bodyLimit: options.jsonBodyLimit } : {}) },
    (_request, body: Buffer, done) => {
      if (body.length === 0) return done(new HeistError('HEIST_ERR_BAD_JSON', 'the request body is empty'), undefined);
      if (jsonDepthExceeded(body, maxDepth) >= 0)
        return done(
          new HeistError('HEIST_ERR_BAD_JSON', `the request body nests too deep (more than ${maxDepth} levels)`),
          undefined,
        );
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return done(new HeistError('HEIST_ERR_BAD_JSON', 'the request body is not valid JSON'), undefined);
      }
      done(null, parsed);
    },
  );

  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', ...(options.binaryBodyLimit !== undefined ? { bodyLimit: options.binaryBodyLimit } : {}) },
    (_request, body: Buffer, done) => done(null, body),
  );

  // Every other type (and a body with no content-type): refused unread. Unknown routes still get
  // their 404/405 from the not-found handler, as with no parser at all.
  app.addContentTypeParser('*', (request, _payload, done) => {
    if (request.is404) return done(null, undefined);
    done(new HeistError('HEIST_ERR_UNSUPPORTED_MEDIA_TYPE', UNSUPPORTED), undefined);
  });
}
