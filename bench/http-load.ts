/**
 * @file A load generator in its own process (so it does not share the gateway's event loop):
 * POSTs `calls` heist-v1 predict requests of `batch` seeded random rows over keep-alive
 * connections, `inFlight` at a time, and prints {"rowsPerSecond": …} as JSON.
 * Usage: node --import tsx bench/http-load.ts URL BATCH CALLS IN_FLIGHT INPUT_SIZE
 */
import http from 'node:http';
import { createRng } from '../src/core/rng.js';

const [url, batchArg, callsArg, inFlightArg, sizeArg] = process.argv.slice(2);
const batch = Number(batchArg);
const calls = Number(callsArg);
const inFlight = Number(inFlightArg);
const size = Number(sizeArg);
const rng = createRng(batch);
const body = JSON.stringify({ inputs: Array.from({ length: batch }, () => Array.from({ length: size }, () => Math.round(rng.next() * 1000) / 1000)) });
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
const target = new URL(url);

function post(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

for (let i = 0; i < Math.min(20, calls); i++) await post(); // warm-up
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (next < calls) {
      next++;
      await post();
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
agent.destroy();
process.stdout.write(`${JSON.stringify({ rowsPerSecond: (calls * batch) / seconds })}\n`);
