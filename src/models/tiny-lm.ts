/**
 * @file TinyLm: the small byte-level language model Heist trains itself (scripts/make-lm.ts) and
 * serves over /v1/completions. Architecture (float64 inference over float32 weights):
 *   the last `context` tokens (left-padded with NUL) -> embedding E [V, embed] each, concatenated
 *   -> dense [context*embed, mlp] + b1 -> ReLU -> dense [mlp, hidden] + b2 -> tanh = g (size h)
 *   -> logits = W g, W [V, h] ("unembedding"; NO bias, like GPT-2 / LLaMA).
 * Because the final layer has no bias, every logit vector lies in the h-dimensional column space
 * of W: the object the llm-final-layer attack recovers.
 * File format heist.tiny-lm/v1: JSON with each parameter as base64 little-endian float32.
 */
import { readFileSync } from 'node:fs';
import { HeistError } from '../core/errors.js';
import { BYTE_VOCAB, PAD_TOKEN } from './byte-tokenizer.js';

export interface TinyLmShape {
  readonly vocab: number;
  readonly context: number;
  readonly embed: number;
  readonly mlp: number;
  readonly hidden: number;
}

export interface TinyLmParams {
  /** [vocab, embed] */
  readonly embedding: Float32Array;
  /** [context*embed, mlp] */
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  /** [mlp, hidden] */
  readonly w2: Float32Array;
  readonly b2: Float32Array;
  /** [vocab, hidden]: logits = unembed · g. */
  readonly unembed: Float32Array;
}

export interface TinyLm extends TinyLmShape {
  readonly name: string;
  readonly params: TinyLmParams;
  /** Free-form provenance (corpus hash, training settings), kept in the file. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

export const TINY_LM_FORMAT = 'heist.tiny-lm/v1';

export function paramShapes(s: TinyLmShape): Record<keyof TinyLmParams, [number, number] | [number]> {
  return {
    embedding: [s.vocab, s.embed],
    w1: [s.context * s.embed, s.mlp],
    b1: [s.mlp],
    w2: [s.mlp, s.hidden],
    b2: [s.hidden],
    unembed: [s.vocab, s.hidden],
  };
}

const PARAM_NAMES: readonly (keyof TinyLmParams)[] = ['embedding', 'w1', 'b1', 'w2', 'b2', 'unembed'];

function bad(why: string): never {
  throw new HeistError('HEIST_ERR_BAD_MODEL', `tiny-lm: ${why}`);
}

function f32ToBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function base64ToF32(s: string, n: number, name: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.byteLength !== n * 4) bad(`parameter ${name} has ${buf.byteLength / 4} values, expected ${n}`);
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(buf);
  for (const v of out) if (!Number.isFinite(v)) bad(`parameter ${name} holds a non-finite value`);
  return out;
}

export function tinyLmToJson(lm: TinyLm): string {
  const shapes = paramShapes(lm);
  const params = Object.fromEntries(PARAM_NAMES.map((k) => [k, { shape: shapes[k], f32: f32ToBase64(lm.params[k]) }]));
  const { vocab, context, embed, mlp, hidden } = lm;
  return `${JSON.stringify({ format: TINY_LM_FORMAT, name: lm.name, vocab, context, embed, mlp, hidden, finalBias: false, meta: lm.meta ?? {}, params }, null, 1)}\n`;
}

const posInt = (v: unknown, max: number): v is number =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;

export function parseTinyLm(text: string): TinyLm {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    bad('not JSON');
  }
  if (doc?.format !== TINY_LM_FORMAT) bad(`format must be ${TINY_LM_FORMAT}`);
  if (typeof doc.name !== 'string' || doc.name === '') bad('no name');
  if (doc.vocab !== BYTE_VOCAB) bad(`vocab must be ${BYTE_VOCAB} (byte-level)`);
  const { context, embed, mlp, hidden } = doc;
  if (!posInt(context, 64) || !posInt(embed, 1024) || !posInt(mlp, 4096) || !posInt(hidden, 4096))
    bad('bad shape fields');
  const shape: TinyLmShape = { vocab: BYTE_VOCAB, context, embed, mlp, hidden };
  const shapes = paramShapes(shape);
  const raw = (doc.params ?? {}) as Record<string, { f32?: unknown } | undefined>;
  const params = Object.fromEntries(
    PARAM_NAMES.map((k) => {
      const p = raw[k];
      if (typeof p?.f32 !== 'string') bad(`parameter ${k} is missing`);
      return [
        k,
        base64ToF32(
          p.f32,
          shapes[k].reduce((a, b) => a * b, 1),
          k,
        ),
      ];
    }),
  ) as unknown as TinyLmParams;
  return { ...shape, name: doc.name, params, meta: (doc.meta ?? {}) as Record<string, unknown> };
}

export function loadTinyLm(path: string): TinyLm {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `cannot read language model ${path}`, { cause: e });
  }
  return parseTinyLm(text);
}

/** The window the model sees: the last `context` tokens, left-padded with PAD_TOKEN. */
export function contextWindow(lm: TinyLmShape, tokens: readonly number[]): number[] {
  const tail = tokens.slice(Math.max(0, tokens.length - lm.context));
  return [...Array.from({ length: lm.context - tail.length }, () => PAD_TOKEN), ...tail];
}

/** The hidden state g (size h) after `tokens` (float64). */
export function hiddenState(lm: TinyLm, tokens: readonly number[]): Float64Array {
  const { embed, mlp, hidden } = lm;
  const { embedding, w1, b1, w2, b2 } = lm.params;
  const a = Float64Array.from(b1);
  contextWindow(lm, tokens).forEach((t, pos) => {
    for (let e = 0; e < embed; e++) {
      const v = embedding[t * embed + e];
      const base = (pos * embed + e) * mlp;
      for (let o = 0; o < mlp; o++) a[o] += v * w1[base + o];
    }
  });
  const g = Float64Array.from(b2);
  for (let i = 0; i < mlp; i++) {
    const v = a[i];
    if (v <= 0) continue;
    for (let o = 0; o < hidden; o++) g[o] += v * w2[i * hidden + o];
  }
  for (let o = 0; o < hidden; o++) g[o] = Math.tanh(g[o]);
  return g;
}

/** Next-token logits W g after `tokens` (float64, length vocab). */
export function nextLogits(lm: TinyLm, tokens: readonly number[]): Float64Array {
  const g = hiddenState(lm, tokens);
  const { hidden, vocab } = lm;
  const w = lm.params.unembed;
  const out = new Float64Array(vocab);
  for (let t = 0; t < vocab; t++) {
    let s = 0;
    for (let k = 0; k < hidden; k++) s += w[t * hidden + k] * g[k];
    out[t] = s;
  }
  return out;
}

/** log softmax (float64, numerically stable). */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - m);
  const lse = m + Math.log(s);
  return Float64Array.from(logits, (v) => v - lse);
}
