/**
 * @file Socket-level hardening, below fastify's routing: header and request timeouts (slow or held
 * connections are cut, 408), a cap on open connections, a budget on request-body bytes buffered at
 * once over all connections (so thousands of held bodies cannot exhaust memory), a JSON answer for
 * malformed HTTP, and a 405 for CONNECT (node would otherwise drop the socket without a word).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { HeistError, type HeistErrorCode } from '../core/errors.js';
import { errorBody } from './errors.js';

function rawReply(
  socket: Duplex,
  status: number,
  reason: string,
  code: HeistErrorCode,
  message: string,
  extra = '',
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

/** Node's clientError codes -> our answer. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
    socket.destroy();
    return;
  }
  if (
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ||
    err.code === 'ERR_HTTP_HEADERS_TIMEOUT' ||
    err.code === 'HPE_HEADERS_TIMEOUT'
  ) {
    rawReply(socket, 408, 'Request Timeout', 'HEIST_ERR_REQUEST_TIMEOUT', 'the request did not arrive in time');
    return;
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    rawReply(socket, 431, 'Request Header Fields Too Large', 'HEIST_ERR_BAD_BODY', 'the request headers are too large');
    return;
  }
  rawReply(socket, 400, 'Bad Request', 'HEIST_ERR_BAD_BODY', 'the request is not valid HTTP/1.1');
}

export interface ConnectionLimits {
  readonly headersMs: number;
  readonly requestMs: number;
  readonly keepAliveMs: number;
  readonly maxConnections: number;
  readonly maxBufferedBodyBytes: number;
  readonly bodyLimitBytes: number;
}

/** Applied once the server exists (fastify creates it in the constructor). */
export function installConnectionGuards(app: FastifyInstance, limits: ConnectionLimits): void {
  const server = app.server as Server;
  server.headersTimeout = limits.headersMs;
  server.requestTimeout = limits.requestMs;
  server.keepAliveTimeout = limits.keepAliveMs;
  server.maxConnections = limits.maxConnections;
  // node checks the timeouts on this interval; the default (30 s) would let a slow client far outlive them.
  (server as Server & { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(
    1000,
    limits.headersMs,
  );
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    rawReply(
      socket,
      405,
      'Method Not Allowed',
      'HEIST_ERR_METHOD_NOT_ALLOWED',
      'CONNECT is not supported: this is not a proxy',
      'Allow: GET, HEAD, POST\r\n',
    );
  });

  // Reserve the body's declared size (or the body limit when it is chunked) before it is read.
  let buffered = 0;
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method !== 'POST' && request.method !== 'PUT' && request.method !== 'PATCH') return done();
    const declared = Number(request.headers['content-length']);
    const size =
      Number.isFinite(declared) && declared >= 0 ? Math.min(declared, limits.bodyLimitBytes) : limits.bodyLimitBytes;
    if (buffered + size > limits.maxBufferedBodyBytes)
      return done(
        new HeistError('HEIST_ERR_OVERLOADED', 'the server is buffering too many request bodies; retry shortly', {
          status: 503,
        }),
      );
    buffered += size;
    // The body stays in memory until the reply is done, so the reservation lasts until then
    // ('close' fires on completion and on a dropped connection alike).
    reply.raw.once('close', () => {
      buffered -= size;
    });
    done();
  });
}
