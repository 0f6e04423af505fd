/**
 * @file The hostile client of bench/gateway-hostile.ts, in its own process: seeded fuzzed requests
 * over raw sockets (malformed JSON, deep nesting, huge numbers, NaN strings, wrong shapes, oversized
 * bodies, bad content types and charsets, unknown models, bad and missing keys, keys in URLs,
 * CONNECT, malformed HTTP, out-of-domain values, binary bodies of wrong length, odd methods, and
 * some valid requests), `concurrency` at a time, one connection per request, while slow or held
 * connections (held headers, slowloris, trickled bodies, bodies that never finish, idle keep-alive,
 * silent sockets) are opened evenly over `spreadMs`. Every answer (kind, variant, status, request
 * id, whether it came from below fastify) goes to `answersFile` as JSON lines; the tally is printed
 * as one JSON line.
 * Usage: node --import tsx bench/hostile-client.ts '<json HostileClientOptions>'
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { createRng, type Rng } from '../src/core/rng.js';
import { monotonicUs } from './cpu-profile.js';

export interface HostileClientOptions {
  /** Base URL of the gateway, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly key: string;
  readonly model: string;
  readonly size: number;
  readonly requests: number;
  readonly slow: number;
  readonly concurrency: number;
  readonly spreadMs: number;
  /** The client gives up on a held connection after this. */
  readonly holdCapMs: number;
  readonly answersFile: string;
  readonly seed: number;
  /** Only these fuzz kinds (diagnosis: which kind slows /healthz); default all. */
  readonly kinds?: readonly string[];
}

export interface HostileAnswer {
  readonly kind: string;
  readonly variant: string;
  readonly path: string;
  /** undefined: the connection ended (or the client gave up) without an answer. */
  readonly status?: number;
  readonly requestId?: string;
  /** Answered below fastify (connection guards: no Date header, no request id). */
  readonly raw: boolean;
  readonly end: 'answer' | 'closed' | 'timeout';
  /** When the connection was opened, in monotonicUs() (the clock the orchestrator's samples use). */
  readonly startUs: number;
  readonly ms: number;
  /** The first bytes of a 5xx answer's body. */
  readonly body5xx?: string;
  /** The request carried no valid key: a 2xx on an API route is an authentication bypass. */
  readonly keyless?: boolean;
}

interface Case {
  readonly variant: string;
  readonly path: string;
  /** The bytes to send, or a writer for streamed / slow sends (it may keep writing). */
  readonly send: Buffer | ((s: net.Socket) => (() => void) | undefined);
  readonly keyless?: boolean;
  /** A HEAD request: the answer has no body whatever its Content-Length says. */
  readonly head?: boolean;
}

const o = JSON.parse(process.argv[2] ?? '{}') as HostileClientOptions;
const target = new URL(o.url);
const HOST = target.host;
const rng: Rng = createRng(o.seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)];
const keyId = o.key.split('_')[1];
const PREDICT = `/v1/models/${o.model}/predict`;

const row = (v?: number): number[] => Array.from({ length: o.size }, () => v ?? Math.round(rng.next() * 1000) / 1000);
const validBody = (): string => JSON.stringify({ inputs: [row()] });

/** An HTTP/1.1 request; Content-Length is added for a body unless the headers set framing. */
function http(method: string, path: string, headers: readonly string[], body?: Buffer | string): Buffer {
  const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const framed = headers.some((h) => /^(content-length|transfer-encoding):/i.test(h));
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${HOST}`, ...headers];
  if (b && !framed) lines.push(`Content-Length: ${b.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), b ?? Buffer.alloc(0)]);
}
const json = ['Content-Type: application/json'];
const withKey = (h: readonly string[] = json): string[] => [...h, `x-api-key: ${o.key}`];
const post = (
  variant: string,
  body: Buffer | string,
  headers: readonly string[] = withKey(),
  path = PREDICT,
): Case => ({
  variant,
  path,
  send: http('POST', path, headers, body),
});
const float32 = (values: readonly number[]): Buffer => Buffer.from(new Float32Array(values).buffer);
const octet = withKey(['Content-Type: application/octet-stream']);

// Large payloads are built once.
const big = {
  rows1025: JSON.stringify({ inputs: Array.from({ length: 1025 }, () => row(0.5)) }),
  binary1025: float32(new Array(1025 * o.size).fill(0.5)),
  chunk: Buffer.alloc(64 * 1024, 0x31),
  longDigits: `1${'0'.repeat(100_000)}`,
  longFraction: `0.${'1'.repeat(100_000)}`,
};

/** Every fuzz kind: a weight and a generator of one case. */
const kinds: Readonly<Record<string, { readonly weight: number; make(): Case }>> = {
  valid: { weight: 8, make: () => post('batch1', validBody()) },
  malformed_json: {
    weight: 8,
    make: () => {
      const good = validBody();
      return pick<() => Case>([
        () => post('truncated', good.slice(0, Math.floor(rng.next() * good.length))),
        () => post('unquoted-key', `{inputs:[${JSON.stringify(row())}]}`),
        () => post('trailing-garbage', `${good}xyz`),
        () => post('single-quotes', `{'inputs':[[0.1]]}`),
        () => post('empty', ''),
        () => post('nul-bytes', Buffer.from(`{"inputs":[[0.1\u0000,0.2]]}`)),
        () => post('bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)])),
        () =>
          post(
            'invalid-utf8',
            Buffer.concat([Buffer.from('{"inputs":[[0.1,"'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('"]]}')]),
          ),
        () => post('lone-surrogate', `{"inputs":[["\\ud800"]]}`),
        () => post('trailing-comma', `{"inputs":[[0.1,]]}`),
        () => post('duplicate-keys', `{"inputs":[${JSON.stringify(row())}],"inputs":5}`),
        () => post('proto-key', `{"__proto__":{"polluted":1},"inputs":[${JSON.stringify(row())}]}`),
        () => post('constructor-key', `{"constructor":{"prototype":{"x":1}},"inputs":[[0.1]]}`),
        () => post('unterminated-string', `{"inputs":"${'a'.repeat(1000)}`),
        () => post('escaped-quotes', `{"inputs":"\\"[[[[[[[[[[[[\\\\"}`),
      ])();
    },
  },
  deep_nesting: {
    weight: 6,
    make: () => {
      const depth = pick([9, 64, 1000, 100_000]);
      return pick<() => Case>([
        () => post(`arrays-${depth}`, `{"inputs":${'['.repeat(depth)}${']'.repeat(depth)}}`),
        () => post(`objects-${depth}`, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
        () => post(`unclosed-${depth}`, '['.repeat(depth)),
        () => post(`in-string-${depth}`, `{"inputs":"${'['.repeat(depth)}"}`),
      ])();
    },
  },
  huge_numbers: {
    weight: 5,
    make: () => {
      const v = pick([
        '1e308',
        '1e309',
        '-1e309',
        '1e-400',
        '123456789012345678901234567890',
        '-0',
        big.longDigits,
        big.longFraction,
      ]);
      const r = row();
      return post(
        `value-${v.length > 40 ? `${v.slice(0, 6)}...(${v.length} chars)` : v}`,
        `{"inputs":[[${v},${r.slice(1).join(',')}]]}`,
      );
    },
  },
  nan_strings: {
    weight: 5,
    make: () => {
      const v = pick([
        '"NaN"',
        '"nan"',
        '"Infinity"',
        '"-Infinity"',
        'null',
        '"0.5"',
        'true',
        '{}',
        '[]',
        'NaN',
        'Infinity',
      ]);
      return post(`value-${v}`, `{"inputs":[[${v},${row().slice(1).join(',')}]]}`);
    },
  },
  wrong_shapes: {
    weight: 8,
    make: () =>
      pick<() => Case>([
        () => post('783-values', JSON.stringify({ inputs: [row().slice(1)] })),
        () => post('785-values', JSON.stringify({ inputs: [[...row(), 0.5]] })),
        () =>
          post(
            'nested-28x28x1',
            JSON.stringify({ inputs: [Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0.5]))] }),
          ),
        () => post('ragged', JSON.stringify({ inputs: [row(), row().slice(0, 100)] })),
        () => post('no-rows', '{"inputs":[]}'),
        () => post('empty-row', '{"inputs":[[]]}'),
        () => post('inputs-number', '{"inputs":5}'),
        () => post('inputs-string', '{"inputs":"abc"}'),
        () => post('empty-object', '{}'),
        () => post('top-array', `[${JSON.stringify(row())}]`),
        () => post('top-null', 'null'),
        () => post('top-string', '"inputs"'),
        () => post('unknown-field', JSON.stringify({ input: [row()] })),
        () => post('bad-output', JSON.stringify({ inputs: [row()], output: 'logits-please' })),
        () => post('output-label', JSON.stringify({ inputs: [row()], output: 'label' })),
        () => post('rows-1025', rng.next() < 0.2 ? big.rows1025 : '{"inputs":[]}'),
        () => post('row-of-objects', JSON.stringify({ inputs: [Array.from({ length: o.size }, () => ({ v: 1 }))] })),
      ])(),
  },
  oversized_body: {
    weight: 4,
    make: () =>
      pick<() => Case>([
        () => ({
          variant: 'declared-9MiB',
          path: PREDICT,
          send: Buffer.concat([http('POST', PREDICT, [...withKey(), `Content-Length: ${9 * 1024 * 1024}`]), big.chunk]),
        }),
        () => ({
          variant: 'declared-huge',
          path: PREDICT,
          send: http('POST', PREDICT, [...withKey(), 'Content-Length: 99999999999999999999'], '{}'),
        }),
        () => ({
          variant: 'chunked-64KiB',
          path: PREDICT,
          send: Buffer.concat([
            http('POST', PREDICT, [...withKey(), 'Transfer-Encoding: chunked']),
            Buffer.from(`${big.chunk.length.toString(16)}\r\n`),
            big.chunk,
            Buffer.from('\r\n0\r\n\r\n'),
          ]),
        }),
        () =>
          // Rare and costly: 9 MiB streamed in 64 KiB chunks until the server stops it.
          rng.next() < 0.2
            ? {
                variant: 'chunked-9MiB',
                path: PREDICT,
                send: (s: net.Socket) => {
                  s.write(http('POST', PREDICT, [...withKey(), 'Transfer-Encoding: chunked']));
                  let sent = 0;
                  const pump = (): void => {
                    while (sent < 9 * 1024 * 1024 && !s.destroyed) {
                      sent += big.chunk.length;
                      s.write(`${big.chunk.length.toString(16)}\r\n`);
                      s.write(big.chunk);
                      if (!s.write('\r\n')) return void s.once('drain', pump);
                    }
                    if (!s.destroyed) s.write('0\r\n\r\n');
                  };
                  pump();
                  return undefined;
                },
              }
            : {
                variant: 'declared-9MiB-headers-only',
                path: PREDICT,
                send: http('POST', PREDICT, [...withKey(), `Content-Length: ${9 * 1024 * 1024}`]),
              },
      ])(),
  },
  bad_content_type: {
    weight: 7,
    make: () => {
      const ct = pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/json; charset="UTF-8"',
        'APPLICATION/JSON',
        'application/json;;;',
        'application/jsonx',
        'application/json, text/plain',
        `application/json; ${'x'.repeat(10_000)}=1`,
        'application/octet-stream; charset=utf-8',
        '',
      ]);
      const body = ct.includes('utf-16') ? Buffer.from(validBody(), 'utf16le') : validBody();
      if (ct === '') return post('no-content-type', body, [`x-api-key: ${o.key}`]);
      return post(`type-${ct.length > 40 ? `${ct.slice(0, 20)}...` : ct}`, body, withKey([`Content-Type: ${ct}`]));
    },
  },
  unknown_model: {
    weight: 5,
    make: () => {
      const path = pick([
        '/v1/models/nope/predict',
        '/v1/models/../../etc/passwd/predict',
        '/v1/models/%2e%2e/predict',
        '/v1/models/%00/predict',
        `/v1/models/${'a'.repeat(5000)}/predict`,
        '/v1/models//predict',
        `${PREDICT}/extra`,
        '/v1/models/%ZZ/predict',
        '/v1/models/mn%C3%AFst/predict',
      ]);
      return pick<() => Case>([
        () => post(`post-${path.length > 40 ? 'long-name' : path}`, validBody(), withKey(), path),
        () => ({ variant: `get-${path.length > 40 ? 'long-name' : path}`, path, send: http('GET', path, withKey([])) }),
      ])();
    },
  },
  bad_key: {
    weight: 7,
    make: () => {
      const secret = o.key.split('_')[2] ?? '';
      const h = pick([
        [] as string[],
        ['x-api-key: garbage'],
        [`x-api-key: hk_000000000000_${secret}`],
        [`x-api-key: hk_${keyId}_${'A'.repeat(secret.length)}`],
        [`x-api-key: ${'k'.repeat(10_000)}`],
        ['Authorization: Bearer junk'],
        ['Authorization: Basic dXNlcjpwYXNz'],
        ['Authorization: Bearer '],
        [`x-api-key: ${o.key}`, 'x-api-key: junk'],
        [`x-api-key: ${o.key.slice(0, -1)}`],
        [`x-api-key: ${o.key.toUpperCase()}`],
      ]);
      return {
        ...post(`key-${h.length === 0 ? 'missing' : h.join('|').slice(0, 30)}`, validBody(), [...json, ...h]),
        keyless: true,
      };
    },
  },
  path_tricks: {
    // Paths the router maps onto API routes although they do not start with "/v1/" as sent; no key.
    weight: 3,
    make: () => {
      const [m, p] = pick([
        ['GET', 'http://evil.example/v1/models'],
        ['GET', `http://evil.example/v1/models/${o.model}`],
        ['GET', '/%761/models'],
        ['GET', `/v1/%6Dodels/${o.model}`],
        ['POST', `/%761/models/${o.model}/predict`],
        ['POST', `http://evil.example${PREDICT}`],
        ['GET', `/v1/models%2F${o.model}`],
        ['GET', '/v1/models/'],
      ] as const);
      return {
        variant: `${m} ${p}`,
        path: p,
        send: http(m, p, json, m === 'POST' ? validBody() : undefined),
        keyless: true,
      };
    },
  },
  key_in_url: {
    weight: 4,
    make: () => {
      const q = pick([
        `api_key=${o.key}`,
        'token=abc',
        `key=${o.key}`,
        'access_token=x',
        'x=1&api-key=2',
        `API_KEY=${o.key}`,
        'password=hunter2',
        'foo=bar',
      ]);
      return post(`query-${q.split('=')[0]}`, validBody(), withKey(), `${PREDICT}?${q}`);
    },
  },
  connect: {
    weight: 2,
    make: () =>
      pick<() => Case>([
        () => ({
          variant: 'connect',
          path: 'example.com:443',
          send: Buffer.from('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'),
        }),
        () => ({
          variant: 'connect-with-body',
          path: 'example.com:443',
          send: Buffer.from(
            'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 5\r\n\r\nhello',
          ),
        }),
      ])(),
  },
  malformed_http: {
    weight: 7,
    make: () =>
      pick<() => Case>([
        () => ({
          variant: 'random-bytes',
          path: '',
          send: Buffer.from(Array.from({ length: 64 }, () => Math.floor(rng.next() * 256))),
        }),
        () => ({ variant: 'http-9.9', path: '/', send: Buffer.from('GET / HTTP/9.9\r\nHost: x\r\n\r\n') }),
        () => ({
          variant: 'header-without-colon',
          path: '/healthz',
          send: Buffer.from(`GET /healthz HTTP/1.1\r\nHost: ${HOST}\r\nBad Header\r\n\r\n`),
        }),
        () => ({
          variant: 'cl-and-te',
          path: PREDICT,
          send: http('POST', PREDICT, [...withKey(), 'Content-Length: 4', 'Transfer-Encoding: chunked'], '0\r\n\r\n'),
        }),
        () => ({
          variant: 'two-cl',
          path: PREDICT,
          send: http('POST', PREDICT, [...withKey(), 'Content-Length: 2', 'Content-Length: 3'], '{}'),
        }),
        () => ({
          variant: 'negative-cl',
          path: PREDICT,
          send: http('POST', PREDICT, [...withKey(), 'Content-Length: -1'], '{}'),
        }),
        () => ({
          variant: 'cl-not-a-number',
          path: PREDICT,
          send: http('POST', PREDICT, [...withKey(), 'Content-Length: abc'], '{}'),
        }),
        () => ({
          variant: 'bad-chunk-size',
          path: PREDICT,
          send: http('POST', PREDICT, [...withKey(), 'Transfer-Encoding: chunked'], 'zz\r\n{}\r\n0\r\n\r\n'),
        }),
        () => ({
          variant: 'header-20KiB',
          path: '/healthz',
          send: http('GET', '/healthz', [`X-Big: ${'b'.repeat(20_000)}`]),
        }),
        () => ({ variant: 'url-20KiB', path: '/healthz', send: http('GET', `/healthz?${'u'.repeat(20_000)}`, []) }),
        () => ({
          variant: 'nul-in-header',
          path: '/healthz',
          send: Buffer.from(`GET /healthz HTTP/1.1\r\nHost: ${HOST}\r\nX-A: a\u0000b\r\n\r\n`),
        }),
        () => ({ variant: 'bare-lf', path: '/healthz', send: Buffer.from(`GET /healthz HTTP/1.1\nHost: ${HOST}\n\n`) }),
        () => ({ variant: 'lowercase-method', path: PREDICT, send: http('post', PREDICT, withKey(), validBody()) }),
        () => ({ variant: 'unknown-method', path: PREDICT, send: http('FOO', PREDICT, withKey(), validBody()) }),
        () => ({
          variant: 'absolute-form',
          path: PREDICT,
          send: http('POST', `http://evil.example${PREDICT}`, withKey(), validBody()),
        }),
        () => ({ variant: 'http-1.0-no-host', path: '/healthz', send: Buffer.from('GET /healthz HTTP/1.0\r\n\r\n') }),
        () => ({
          variant: 'pipelined-valid-then-garbage',
          path: PREDICT,
          send: Buffer.concat([
            http('POST', PREDICT, withKey(), validBody()),
            Buffer.from('\u0001\u0002garbage\r\n\r\n'),
          ]),
        }),
        () => ({
          variant: 'space-in-path',
          path: '/v1/models',
          send: Buffer.from(`GET /v1/mo dels HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`),
        }),
      ])(),
  },
  out_of_domain: {
    weight: 5,
    make: () => {
      const v = pick([-0.5, 1.5, 255, -1e30, 1.0000001]);
      const r = row();
      r[Math.floor(rng.next() * r.length)] = v;
      return post(`value-${v}`, JSON.stringify({ inputs: [r] }));
    },
  },
  binary_wrong_length: {
    weight: 6,
    make: () =>
      pick<() => Case>([
        () => post('bin-0-bytes', Buffer.alloc(0), octet),
        () => post('bin-3-bytes', Buffer.from([1, 2, 3]), octet),
        () => post('bin-783-floats', float32(row().slice(1)), octet),
        () => post('bin-785-floats', float32([...row(), 0.5]), octet),
        () => post('bin-1025-rows', rng.next() < 0.2 ? big.binary1025 : Buffer.alloc(0), octet),
        () => post('bin-nan', float32([Number.NaN, ...row().slice(1)]), octet),
        () => post('bin-inf', float32([Number.POSITIVE_INFINITY, ...row().slice(1)]), octet),
        () => post('bin-out-of-domain', float32([7, ...row().slice(1)]), octet),
        () => post('bin-valid', float32(row()), octet),
        () => post('bin-bad-output-header', float32(row()), [...octet, 'x-heist-output: everything']),
        () => post('bin-label-output', float32(row()), [...octet, 'x-heist-output: label']),
        () => post('bin-on-models-route', float32(row()), octet, '/v1/models'),
      ])(),
  },
  odd_methods: {
    weight: 4,
    make: () => {
      const [m, p] = pick([
        ['PUT', PREDICT],
        ['DELETE', PREDICT],
        ['PATCH', PREDICT],
        ['GET', PREDICT],
        ['OPTIONS', PREDICT],
        ['HEAD', PREDICT],
        ['TRACE', '/'],
        ['DELETE', '/healthz'],
        ['GET', '/admin/keys'],
        ['POST', '/admin/keys'],
        ['GET', '/metrics'],
        ['GET', '/v1/models'],
        ['POST', '/v1/completions'],
        ['GET', '/openapi.json'],
      ] as const);
      return {
        variant: `${m} ${p === PREDICT ? 'predict' : p}`,
        path: p,
        send: http(m, p, withKey(), m === 'GET' || m === 'HEAD' || m === 'TRACE' ? undefined : validBody()),
        head: m === 'HEAD',
      };
    },
  },
};

/** A seeded draw from `names`, each as likely as its weight in `table`. */
function weightedPicker(table: Readonly<Record<string, { readonly weight: number }>>, names: readonly string[]) {
  const total = names.reduce((s, k) => s + table[k].weight, 0);
  return (): string => {
    let r = rng.next() * total;
    for (const k of names) {
      r -= table[k].weight;
      if (r < 0) return k;
    }
    return names[names.length - 1];
  };
}

const kindNames = Object.keys(kinds).filter((k) => o.kinds === undefined || o.kinds.includes(k));
const pickKind = weightedPicker(kinds, kindNames);

const HEAD_END = Buffer.from('\r\n\r\n');

/** One connection: send, read one answer (framed by Content-Length or chunked, else by close). */
function exchange(kind: string, c: Case, timeoutMs: number): Promise<HostileAnswer> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const startUs = monotonicUs();
    const s = net.connect({ host: target.hostname, port: Number(target.port) });
    let buf = Buffer.alloc(0);
    let head: string | undefined;
    let bodyStart = 0;
    let stop: (() => void) | undefined;
    let settled = false;
    const finish = (end: HostileAnswer['end']): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop?.();
      s.destroy();
      const status = head !== undefined ? Number(head.slice(9, 12)) : undefined;
      const id = head !== undefined ? /\r\nx-request-id:\s*([^\r]+)/i.exec(head)?.[1].trim() : undefined;
      const raw = head !== undefined && id === undefined && !/\r\ndate:/i.test(head);
      resolve({
        kind,
        variant: c.variant,
        path: c.path,
        ...(status !== undefined && Number.isFinite(status) ? { status } : {}),
        ...(id !== undefined ? { requestId: id } : {}),
        raw,
        end: head !== undefined ? 'answer' : end,
        startUs,
        ms: Math.round((performance.now() - t0) * 10) / 10,
        ...(status !== undefined && status >= 500 ? { body5xx: buf.toString('utf8', bodyStart, bodyStart + 300) } : {}),
        ...(c.keyless ? { keyless: true } : {}),
      });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    s.on('error', () => {}); // ECONNRESET, EPIPE: the close that follows settles it
    s.on('close', () => finish('closed'));
    s.on('connect', () => {
      if (Buffer.isBuffer(c.send)) s.write(c.send);
      else stop = c.send(s);
    });
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (head === undefined) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) return;
        head = buf.toString('latin1', 0, end);
        bodyStart = end + 4;
        if (c.head) return finish('answer');
      }
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (cl && buf.length >= bodyStart + Number(cl[1])) return finish('answer');
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head) && buf.includes('\r\n0\r\n\r\n', bodyStart - 2))
        finish('answer');
    });
  });
}

/** The slow and held connection kinds: each writes slowly or not at all and waits for the server to end it. */
const slowKinds: Readonly<Record<string, { readonly weight: number; make(): Case }>> = {
  held_headers: {
    weight: 25,
    make: () => ({
      variant: 'held-headers',
      path: PREDICT,
      send: Buffer.from(`POST ${PREDICT} HTTP/1.1\r\nHost: ${HOST}\r\nx-api-key: ${o.key}\r\n`),
    }),
  },
  slowloris: {
    weight: 20,
    make: () => ({
      variant: 'slowloris',
      path: PREDICT,
      send: (s) => {
        s.write(`POST ${PREDICT} HTTP/1.1\r\nHost: ${HOST}\r\n`);
        let i = 0;
        const t = setInterval(() => s.writable && s.write(`X-Slow-${i++}: ${'z'.repeat(8)}\r\n`), 1000);
        return () => clearInterval(t);
      },
    }),
  },
  trickled_body: {
    weight: 20,
    make: () => ({
      variant: 'trickled-body',
      path: PREDICT,
      send: (s) => {
        const body = Buffer.from(validBody());
        s.write(http('POST', PREDICT, [...withKey(), `Content-Length: ${body.length}`]));
        let at = 0;
        const t = setInterval(() => {
          if (!s.writable || at >= body.length) return;
          s.write(body.subarray(at, at + 16));
          at += 16;
        }, 1000);
        return () => clearInterval(t);
      },
    }),
  },
  unfinished_body: {
    weight: 20,
    make: () => {
      const body = Buffer.from(validBody());
      const declared = rng.next() < 0.05 ? 8 * 1024 * 1024 : body.length;
      return {
        variant: declared === body.length ? 'unfinished-body' : 'unfinished-body-8MiB',
        path: PREDICT,
        send: Buffer.concat([
          http('POST', PREDICT, [...withKey(), `Content-Length: ${declared}`]),
          body.subarray(0, body.length >> 1),
        ]),
      };
    },
  },
  idle_keepalive: {
    weight: 10,
    make: () => ({ variant: 'idle-keepalive', path: PREDICT, send: http('POST', PREDICT, withKey(), validBody()) }),
  },
  silent: { weight: 5, make: () => ({ variant: 'silent', path: '', send: Buffer.alloc(0) }) },
};

/** A held connection: like exchange, but an idle keep-alive waits past its answer for the server's close. */
function hold(kind: string, c: Case): Promise<HostileAnswer & { closedByServer: boolean }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const startUs = monotonicUs();
    const s = net.connect({ host: target.hostname, port: Number(target.port) });
    let head: string | undefined;
    let buf = Buffer.alloc(0);
    let stop: (() => void) | undefined;
    let settled = false;
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop?.();
      s.destroy();
      const status = head !== undefined ? Number(head.slice(9, 12)) : undefined;
      const id = head !== undefined ? /\r\nx-request-id:\s*([^\r]+)/i.exec(head)?.[1].trim() : undefined;
      resolve({
        kind,
        variant: c.variant,
        path: c.path,
        ...(status !== undefined ? { status } : {}),
        ...(id !== undefined ? { requestId: id } : {}),
        raw: head !== undefined && id === undefined && !/\r\ndate:/i.test(head),
        end: head !== undefined ? 'answer' : closedByServer ? 'closed' : 'timeout',
        startUs,
        ms: Math.round(performance.now() - t0),
        closedByServer,
      });
    };
    const timer = setTimeout(() => finish(false), o.holdCapMs);
    s.on('error', () => {});
    s.on('close', () => finish(true));
    s.on('connect', () => {
      if (Buffer.isBuffer(c.send)) {
        if (c.send.length > 0) s.write(c.send);
      } else stop = c.send(s);
    });
    s.on('data', (chunk: Buffer) => {
      if (head !== undefined) return;
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf(HEAD_END);
      if (end >= 0) head = buf.toString('latin1', 0, end);
    });
  });
}

const pickSlow = weightedPicker(slowKinds, Object.keys(slowKinds));

const answers: HostileAnswer[] = [];
const t0 = performance.now();
const slowDone: Promise<void>[] = [];
const slowResults: (HostileAnswer & { closedByServer: boolean })[] = [];
for (let i = 0; i < o.slow; i++) {
  const at = (i * o.spreadMs) / Math.max(1, o.slow);
  const kind = pickSlow();
  const c = slowKinds[kind].make();
  slowDone.push(
    new Promise<void>((r) => setTimeout(r, at)).then(async () => {
      slowResults.push(await hold(kind, c));
    }),
  );
}
let started = 0;
await Promise.all(
  Array.from({ length: o.concurrency }, async () => {
    while (started < o.requests) {
      started++;
      const kind = pickKind();
      answers.push(await exchange(kind, kinds[kind].make(), 20_000));
    }
  }),
);
const fuzzMs = performance.now() - t0;
await Promise.all(slowDone);

const byKind: Record<string, { sent: number; status: Record<string, number> }> = {};
for (const a of [...answers, ...slowResults]) {
  byKind[a.kind] ??= { sent: 0, status: {} };
  const k = byKind[a.kind];
  k.sent++;
  const s = a.status !== undefined ? String(a.status) : `no answer (${a.end})`;
  k.status[s] = (k.status[s] ?? 0) + 1;
}
// Per variant, the answers (status, or how it ended): what each hostile shape actually got.
const byVariant: Record<string, Record<string, number>> = {};
for (const a of answers) {
  const v = `${a.kind}/${a.variant}`;
  byVariant[v] ??= {};
  const s = a.status !== undefined ? `${a.status}${a.raw ? ' raw' : ''}` : `no answer (${a.end})`;
  byVariant[v][s] = (byVariant[v][s] ?? 0) + 1;
}
const slowEnds: Record<string, { n: number; maxMs: number; ends: Record<string, number> }> = {};
for (const a of slowResults) {
  slowEnds[a.variant] ??= { n: 0, maxMs: 0, ends: {} };
  const e = slowEnds[a.variant];
  e.n++;
  e.maxMs = Math.max(e.maxMs, a.ms);
  const how =
    a.status !== undefined
      ? `${a.status}${a.closedByServer ? ' then closed' : ''}`
      : a.closedByServer
        ? 'closed by server'
        : 'client gave up';
  e.ends[how] = (e.ends[how] ?? 0) + 1;
}
writeFileSync(o.answersFile, `${[...answers, ...slowResults].map((a) => JSON.stringify(a)).join('\n')}\n`);
process.stdout.write(
  `${JSON.stringify({
    requests: answers.length,
    slow: slowResults.length,
    fuzzSeconds: Math.round(fuzzMs) / 1000,
    totalSeconds: Math.round(performance.now() - t0) / 1000,
    byKind,
    byVariant,
    slowEnds,
  })}\n`,
);
