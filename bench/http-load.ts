/**
 * @file A load generator in its own process (so it does not share the gateway's event loop):
 * POSTs `calls` heist-v1 predict requests of `batch` seeded random rows over keep-alive
 * connections, `inFlight` at a time (one per connection, no pipelining), and prints
 * {"rowsPerSecond": …} as JSON.
 * Raw sockets, not node:http: the request bytes are built once and responses are framed by
 * Content-Length only. node:http's client cost ~190 µs of CPU per request, about as much as the
 * gateway itself, so on a small machine the benchmark measured the client as much as the server.
 * Usage: node --import tsx bench/http-load.ts URL BATCH CALLS IN_FLIGHT INPUT_SIZE
 */
import net from 'node:net';
import { createRng } from '../src/core/rng.js';

const [url, batchArg, callsArg, inFlightArg, sizeArg] = process.argv.slice(2);
const batch = Number(batchArg);
const calls = Number(callsArg);
const inFlight = Number(inFlightArg);
const size = Number(sizeArg);
const rng = createRng(batch);
const body = JSON.stringify({
  inputs: Array.from({ length: batch }, () => Array.from({ length: size }, () => Math.round(rng.next() * 1000) / 1000)),
});
const target = new URL(url);
const request = Buffer.from(
  `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
);
const HEAD_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection; send() resolves when a complete 200 response has arrived. */
async function connect(): Promise<{ send(): Promise<void>; close(): void }> {
  const socket = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buf: Buffer = Buffer.alloc(0);
  let pending: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const fail = (e: Error): void => {
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
    const p = pending;
    pending = undefined;
    if (status === 200) p?.resolve();
    else p?.reject(new Error(`status ${status}`));
  });
  return {
    send: () =>
      new Promise<void>((resolve, reject) => {
        pending = { resolve, reject };
        socket.write(request);
      }),
    close: () => socket.destroy(),
  };
}

const conns = await Promise.all(Array.from({ length: inFlight }, connect));
for (let i = 0; i < Math.min(20, calls); i++) await conns[i % inFlight].send(); // warm-up
let next = 0;
const t0 = performance.now();
await Promise.all(
  conns.map(async (c) => {
    while (next < calls) {
      next++;
      await c.send();
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
for (const c of conns) c.close();
process.stdout.write(`${JSON.stringify({ rowsPerSecond: (calls * batch) / seconds })}\n`);
