/**
 * @file `npm run bench -- transcript`: the bytes of a transcript's lines (src/query/transcript.ts)
 * for the 2,000-row mnist-cnn evaluation set with 10 probabilities a row, built by the
 * TranscriptEncoder beside the string path it replaced (a string per value, from a Map of the
 * texts already made, joined per row, the lines encoded at the end), interleaved in one run; median
 * milliseconds and their ratio.
 * Run alone: node --import tsx bench/transcript.ts
 */
import { pathToFileURL } from 'node:url';
import { hashRow } from '../src/core/hash.js';
import { createRng } from '../src/core/rng.js';
import { TranscriptEncoder, formatF32 } from '../src/query/transcript-encode.js';
import { resolveEval } from '../src/runs/data-sources.js';
import { median } from './gateway-child.js';

export interface TranscriptBenchResult {
  readonly rows: number;
  readonly valuesPerRow: number;
  readonly repeats: number;
  readonly encoderMs: { median: number; runs: number[] };
  readonly stringsMs: { median: number; runs: number[] };
  /** strings / encoder, the median of the paired ratios. */
  readonly speedup: number;
}

export function benchTranscript(repeats = 9): TranscriptBenchResult {
  const data = resolveEval('mnist-cnn');
  const n = data.x.shape[0];
  const d = data.x.data.length / n;
  const rng = createRng(1);
  const probs = Float32Array.from({ length: n * 10 }, () => rng.next());
  const row = (i: number) => data.x.data.subarray(i * d, (i + 1) * d);
  const head = (i: number) => `{"hash":"${hashRow(row(i))}","purpose":"eval","at":1764547200000,"label":${i % 10},"x":`;
  const enc = new TranscriptEncoder();
  const viaEncoder = (): number => {
    for (let i = 0; i < n; i++) {
      enc.ascii(head(i));
      enc.floats(row(i));
      enc.ascii(',"probs":');
      enc.floats(probs.subarray(i * 10, (i + 1) * 10));
      enc.ascii('}\n');
    }
    return enc.take().length;
  };
  const texts = new Map<number, string>();
  const cached = (v: number): string => {
    let t = texts.get(v);
    if (t === undefined) {
      t = formatF32(v);
      if (texts.size >= 1 << 16) texts.clear();
      texts.set(v, t);
    }
    return t;
  };
  const viaStrings = (): number => {
    let text = '';
    for (let i = 0; i < n; i++) {
      const p = Array.from(probs.subarray(i * 10, (i + 1) * 10), cached).join(',');
      text += `${head(i)}[${Array.from(row(i), cached).join(',')}],"probs":[${p}]}\n`;
    }
    return Buffer.from(text).length;
  };
  if (viaEncoder() !== viaStrings()) throw new Error('the two paths wrote different bytes');
  const time = (f: () => number): number => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  };
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < repeats; r++) {
    a.push(time(viaEncoder));
    b.push(time(viaStrings));
  }
  const round = (v: number) => +v.toFixed(2);
  return {
    rows: n,
    valuesPerRow: d + 10,
    repeats,
    encoderMs: { median: round(median(a)), runs: a.map(round) },
    stringsMs: { median: round(median(b)), runs: b.map(round) },
    speedup: round(median(a.map((x, i) => b[i] / x))),
  };
}

export function transcriptTable(r: TranscriptBenchResult): string {
  return `transcript lines for ${r.rows} rows of ${r.valuesPerRow} values: encoder ${r.encoderMs.median} ms, strings ${r.stringsMs.median} ms (${r.speedup}x)`;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${transcriptTable(benchTranscript())}\n`);
}
