/**
 * @file A load generator in its own process (so it does not share the gateway's event loop): POSTs
 * heist-v1 predict requests of seeded random rows over keep-alive connections, `--in-flight` at a
 * time (one per connection, no pipelining), for `--calls` requests or `--seconds` of wall time, and
 * prints one JSON line: { rowsPerSecond, requests, deliveredRows, errors, statusCounts, p50Ms,
 * p99Ms, ... } (latency per request, from the write to the last byte of the answer).
 * Raw sockets, not node:http: the request bytes are built once and responses are framed by
 * Content-Length only. node:http's client cost ~190 µs of CPU per request, about as much as the
 * gateway itself, so on a small machine the benchmark measured the client as much as the server.
 * A non-200 answer is an error, tallied, and the run goes on (a connection the server closes is
 * reopened); when a connection cannot be reopened (the server is gone) that lane stops, and once
 * every lane has stopped the tally is printed as usual, so a SIGKILL of the server still yields
 * what was delivered before it. `--ids FILE` writes the x-request-id of every 200 answer, one a line.
 * Usage: node --import tsx bench/http-load.ts --url URL --size D [--batch 1[,16...]] [--in-flight 8]
 *        (--calls N | --seconds S) [--key K] [--binary] [--ids FILE] [--warmup 20] [--seed 1]
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { createRng } from '../src/core/rng.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    size: { type: 'string' },
    batch: { type: 'string', default: '1' },
    'in-flight': { type: 'string', default: '8' },
    calls: { type: 'string' },
    seconds: { type: 'string' },
    key: { type: 'string' },
    binary: { type: 'boolean', default: false },
    ids: { type: 'string' },
    warmup: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
  },
});
if (!args.url || !args.size || (args.calls === undefined) === (args.seconds === undefined)) {
  process.stderr.write(
    'usage: http-load.ts --url URL --size D (--calls N | --seconds S) [--batch B[,B2]] [--key K] [--binary] [--ids FILE]\n',
  );
  process.exit(2);
}
const size = Number(args.size);
const batches = args.batch.split(',').map(Number);
const inFlight = Number(args['in-flight']);
const calls = args.calls !== undefined ? Number(args.calls) : Number.POSITIVE_INFINITY;
const seconds = args.seconds !== undefined ? Number(args.seconds) : Number.POSITIVE_INFINITY;
const warmup = Number(args.warmup);
const wantIds = args.ids !== undefined;
const target = new URL(args.url);

/** The whole request (head and body) for one batch size, built once. */
function buildRequest(batch: number, seed: number): Buffer {
  const rng = createRng(seed);
  const rows = Array.from({ length: batch }, () =>
    Array.from({ length: size }, () => Math.round(rng.next() * 1000) / 1000),
  );
  const body = args.binary
    ? Buffer.from(new Float32Array(rows.flat()).buffer)
    : Buffer.from(JSON.stringify({ inputs: rows }));
  const head =
    `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n` +
    `Content-Type: ${args.binary ? 'application/octet-stream' : 'application/json'}\r\n` +
    (args.key ? `x-api-key: ${args.key}\r\n` : '') +
    `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
const requests = batches.map((b, i) => buildRequest(b, Number(args.seed) * 1000 + b + i));
const HEAD_END = Buffer.from('\r\n\r\n');

interface Answer {
  status: number;
  requestId?: string;
}

/** One keep-alive connection; send() resolves with the answer, or rejects when the connection dies first. */
interface Conn {
  send(request: Buffer): Promise<Answer>;
  readonly alive: boolean;
  close(): void;
}

async function connect(): Promise<Conn> {
  const socket = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let alive = true;
  let buf: Buffer = Buffer.alloc(0);
  let pending: { resolve: (a: Answer) => void; reject: (e: Error) => void } | undefined;
  const fail = (e: Error): void => {
    alive = false;
    socket.destroy();
    const p = pending;
    pending = undefined;
    p?.reject(e);
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('connection closed')));
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const end = buf.indexOf(HEAD_END);
    if (end < 0) return;
    const head = buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) return fail(new Error('response without content-length'));
    const total = end + 4 + Number(m[1]);
    if (buf.length < total) return;
    if (buf.length > total) return fail(new Error('unexpected bytes after the response'));
    buf = Buffer.alloc(0);
    // The server will close this connection: do not write the next request into it.
    if (/\r\nconnection:\s*close/i.test(head)) {
      alive = false;
      socket.end();
    }
    const answer: Answer = { status };
    if (wantIds) {
      const id = /\r\nx-request-id:\s*([^\r]+)/i.exec(head);
      if (id) answer.requestId = id[1].trim();
    }
    const p = pending;
    pending = undefined;
    p?.resolve(answer);
  });
  return {
    send: (request) =>
      new Promise<Answer>((resolve, reject) => {
        if (!alive) return reject(new Error('connection closed'));
        pending = { resolve, reject };
        socket.write(request);
      }),
    get alive() {
      return alive;
    },
    close: () => {
      alive = false;
      socket.destroy();
    },
  };
}

const tally = {
  requests: 0,
  deliveredRows: 0,
  errors: 0,
  statusCounts: {} as Record<string, number>,
  /** Requests written whose connection died before the answer came (not delivered). */
  unanswered: 0,
  /** Connections the server closed that were reopened. */
  reconnects: 0,
  /** Why lanes stopped early (the server went away), by message. */
  stopped: {} as Record<string, number>,
};
const latencies: number[] = [];
const delivered: string[] = [];
let measuring = false;

/** Sends one request; false when the lane must stop (the connection is dead and cannot be reopened). */
async function one(lane: { conn: Conn }, request: Buffer, rows: number): Promise<boolean> {
  const t0 = performance.now();
  try {
    const a = await lane.conn.send(request);
    const ms = performance.now() - t0;
    if (a.status === 200 && a.requestId !== undefined) delivered.push(a.requestId);
    if (measuring) {
      tally.requests++;
      latencies.push(ms);
      tally.statusCounts[a.status] = (tally.statusCounts[a.status] ?? 0) + 1;
      if (a.status === 200) tally.deliveredRows += rows;
      else tally.errors++;
    }
  } catch {
    if (measuring) {
      tally.unanswered++;
      tally.errors++;
    }
  }
  if (lane.conn.alive) return true;
  try {
    lane.conn = await connect();
    tally.reconnects++;
    return true;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    tally.stopped[why] = (tally.stopped[why] ?? 0) + 1;
    return false;
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const lanes = await Promise.all(Array.from({ length: inFlight }, async () => ({ conn: await connect() })));
// Callers that time something against the load (the SIGKILL bench) wait for this line.
process.stderr.write('http-load: connected\n');
const laneBatch = (i: number): number => i % batches.length;
for (let i = 0; i < Math.min(warmup, calls); i++) {
  const k = laneBatch(i % inFlight);
  if (!(await one(lanes[i % inFlight], requests[k], batches[k]))) break;
}
measuring = true;
let started = 0;
const t0 = performance.now();
const deadline = t0 + seconds * 1000;
await Promise.all(
  lanes.map(async (lane, i) => {
    const k = laneBatch(i);
    while (started < calls && performance.now() < deadline) {
      started++;
      if (!(await one(lane, requests[k], batches[k]))) return;
    }
  }),
);
const elapsed = (performance.now() - t0) / 1000;
for (const l of lanes) l.conn.close();
if (wantIds) writeFileSync(args.ids!, delivered.length > 0 ? `${delivered.join('\n')}\n` : '');
latencies.sort((a, b) => a - b);
const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;
process.stdout.write(
  `${JSON.stringify({
    rowsPerSecond: round(tally.deliveredRows / elapsed, 1),
    requests: tally.requests,
    deliveredRows: tally.deliveredRows,
    errors: tally.errors,
    statusCounts: tally.statusCounts,
    p50Ms: round(quantile(latencies, 0.5)),
    p99Ms: round(quantile(latencies, 0.99)),
    seconds: round(elapsed),
    unanswered: tally.unanswered,
    reconnects: tally.reconnects,
    stopped: tally.stopped,
    ...(wantIds ? { deliveredIds: delivered.length } : {}),
  })}\n`,
);
