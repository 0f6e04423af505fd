/**
 * @file Test fixtures for the oracle and query tests: a tiny deterministic linear-softmax Predictor,
 * a real heist-v1 HTTP server on 127.0.0.1 (node:http) that counts what it is sent, and a fake clock.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashRow } from '../../src/core/hash.js';
import {
  type ModelInfo,
  type Prediction,
  type Predictor,
  inputSize,
  probsPrediction,
  toLabelOnly,
} from '../../src/core/prediction.js';
import { type Tensor, rowCount, softmaxRows } from '../../src/core/tensor.js';
import type { Clock } from '../../src/core/types.js';

/** logits = x W + b, W fixed; inputs of 4 values, 3 classes. */
export function linearModel(over: Partial<ModelInfo> = {}): Predictor {
  const info: ModelInfo = {
    name: 'lin',
    inputShape: [4],
    classes: 3,
    output: 'probs',
    domain: { min: 0, max: 1 },
    ...over,
  };
  const W = [
    [2, -1, 0.5],
    [-1, 1.5, 0],
    [0.5, 0, -2],
    [1, 1, 1],
  ];
  const b = [0.1, -0.2, 0.3];
  const d = inputSize(info);
  return {
    info,
    predict(x: Tensor): Prediction {
      const n = rowCount(x);
      const logits = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < 3; j++) {
          let s = b[j];
          for (let k = 0; k < d; k++) s += x.data[i * d + k] * W[k % 4][j];
          logits[i * 3 + j] = s;
        }
      }
      const p = probsPrediction(softmaxRows({ data: logits, shape: [n, 3] }));
      return info.output === 'label' ? toLabelOnly(p) : p;
    },
  };
}

export interface Reply {
  /** Close the connection without answering (a dropped connection), instead of replying. */
  readonly drop?: boolean;
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

export interface ServerOptions {
  readonly models?: Record<string, { predictor: Predictor; maxBatch?: number }>;
  /** Wait this long inside each predict call (real time), so concurrency shows. */
  readonly delayMs?: number;
  /** Answer this instead of predicting; `index` counts predict requests from 0. */
  readonly intercept?: (index: number, rows: number[][]) => Reply | undefined;
}

export interface ServerStats {
  predictRequests: number;
  /** Rows answered successfully. */
  rowsAnswered: number;
  /** Hash of every row answered successfully, in order. */
  answeredHashes: string[];
  inFlight: number;
  peakInFlight: number;
  batchSizes: number[];
}

export interface TestServer {
  readonly base: string;
  readonly stats: ServerStats;
  close(): Promise<void>;
}

function send(res: ServerResponse, r: Reply): void {
  if (r.drop) {
    res.socket?.destroy();
    return;
  }
  res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
  res.end(r.body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of req) s += c;
  return s;
}

export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  const models = opts.models ?? { lin: { predictor: linearModel() } };
  const stats: ServerStats = {
    predictRequests: 0,
    rowsAnswered: 0,
    answeredHashes: [],
    inFlight: 0,
    peakInFlight: 0,
    batchSizes: [],
  };
  const err = (status: number, code: string): Reply => ({
    status,
    body: JSON.stringify({ error: { code, message: code } }),
  });
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    const body = await readBody(req);
    if (req.method === 'GET' && url === '/v1/models') {
      return send(res, {
        status: 200,
        body: JSON.stringify({ models: Object.keys(models).map((name) => ({ name })) }),
      });
    }
    const m = /^\/v1\/models\/([^/]+)(\/predict)?$/.exec(url);
    const model = m ? models[decodeURIComponent(m[1])] : undefined;
    if (!m || !model) return send(res, err(404, 'HEIST_ERR_UNKNOWN_MODEL'));
    const info = model.predictor.info;
    if (req.method === 'GET' && !m[2]) {
      const out = { ...info, inputSize: inputSize(info), maxBatch: model.maxBatch ?? 1000 };
      return send(res, { status: 200, body: JSON.stringify(out) });
    }
    const index = stats.predictRequests++;
    stats.inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    try {
      const rows = (JSON.parse(body) as { inputs: number[][] }).inputs;
      stats.batchSizes.push(rows.length);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const forced = opts.intercept?.(index, rows);
      if (forced) return send(res, forced);
      if (rows.length > (model.maxBatch ?? 1000)) return send(res, err(413, 'HEIST_ERR_BATCH_TOO_LARGE'));
      const x = { data: Float32Array.from(rows.flat()), shape: [rows.length, inputSize(info)] };
      const p = await model.predictor.predict(x);
      const k = info.classes;
      const predictions = rows.map((_, i) => ({
        label: p.labels[i],
        ...(p.scores ? { probabilities: Array.from(p.scores.data.subarray(i * k, (i + 1) * k)) } : {}),
      }));
      stats.rowsAnswered += rows.length;
      for (const r of rows) stats.answeredHashes.push(hashRow(Float32Array.from(r)));
      send(res, { status: 200, body: JSON.stringify({ predictions }) });
    } finally {
      stats.inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A clock whose sleep returns at once and advances time; records every sleep. */
export function fakeClock(start = 1_700_000_000_000): Clock & { sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

/** n rows of 4 values in [0, 1) from a seeded rng-like generator. */
export function rowsFrom(next: () => number, n: number): Tensor {
  const data = new Float32Array(n * 4);
  for (let i = 0; i < data.length; i++) data[i] = next();
  return { data, shape: [n, 4] };
}
