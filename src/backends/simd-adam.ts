/**
 * @file Adam (Kingma & Ba, arXiv:1412.6980, PyTorch's formulation as tfjs-adam.ts) as one 128-bit
 * WebAssembly SIMD loop, for the onnxruntime engine's host-side update. The weights, gradients and
 * moments live in one WebAssembly memory, sized once; `weights` are views into it that the runtime
 * reads directly, so a step copies only the gradients in. Four float32 lanes a step make it about
 * 5x faster than JsAdam's scalar float64 loop, which stays the reference it is tested against: 0.14
 * against 0.73-0.77 ms for the MLP's 235k weights, the gradient copy included. Moments under 2^-100 are stored as 0, as JsAdam does and for the
 * same reason (no float32 denormals). The module is written out here as bytes: it is small, and it
 * keeps the install free of a WebAssembly toolchain.
 */
import { type AdamConfig, JsAdam, adamStep } from './tfjs-adam.js';

/** Moments under this are stored as 0 (tfjs-adam.ts says why). */
const TINY = 2 ** -100;

const SIMD = 0xfd;
const op = {
  localGet: 0x20,
  localSet: 0x21,
  i32Add: 0x6a,
  i32GeU: 0x4f,
  i32Const: 0x41,
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
} as const;
/** SIMD opcodes after the 0xfd prefix, LEB128-encoded. */
const simd = {
  load: [0x00],
  store: [0x0b],
  splat: [0x13],
  and: [0x4e],
  ge: [0x46],
  abs: [0xe0, 0x01],
  sqrt: [0xe3, 0x01],
  add: [0xe4, 0x01],
  sub: [0xe5, 0x01],
  mul: [0xe6, 0x01],
  div: [0xe7, 0x01],
} as const;

/**
 * adam(w, g, m, v, bytes, b1, b2, a1, a2, step, eps, tiny): for each 16-byte group below `bytes`,
 *   m = b1 m + a1 g (0 when |m| < tiny); v = b2 v + a2 g^2 (0 when v < tiny);
 *   w -= step m / (sqrt(v) + eps).
 * Locals: 0-3 the arrays' byte offsets, 4 their byte length, 5-11 the scalars, 12 the offset i,
 * 13-19 the scalars splatted, 20-22 g, m and v of the current group.
 */
function adamModule(): Uint8Array {
  const get = (i: number) => [op.localGet, i];
  const set = (i: number) => [op.localSet, i];
  const s = (o: readonly number[]) => [SIMD, ...o];
  const mem = (o: readonly number[]) => [...s(o), 0x02, 0x00]; // align 2^2, offset 0
  const at = (base: number) => [...get(base), ...get(12), op.i32Add];
  // biome-ignore format: a line per group of instructions reads like the loop it encodes
  const body = [
    ...[5, 6, 7, 8, 9, 10, 11].flatMap((p, k) => [...get(p), ...s(simd.splat), ...set(13 + k)]),
    op.block, 0x40,
    op.loop, 0x40,
    ...get(12), ...get(4), op.i32GeU, op.brIf, 1,
    ...at(1), ...mem(simd.load), ...set(20),
    // m
    ...get(13), ...at(2), ...mem(simd.load), ...s(simd.mul),
    ...get(15), ...get(20), ...s(simd.mul), ...s(simd.add), ...set(21),
    ...get(21), ...get(21), ...s(simd.abs), ...get(19), ...s(simd.ge), ...s(simd.and), ...set(21),
    // v
    ...get(14), ...at(3), ...mem(simd.load), ...s(simd.mul),
    ...get(16), ...get(20), ...get(20), ...s(simd.mul), ...s(simd.mul), ...s(simd.add), ...set(22),
    ...get(22), ...get(22), ...get(19), ...s(simd.ge), ...s(simd.and), ...set(22),
    ...at(2), ...get(21), ...mem(simd.store),
    ...at(3), ...get(22), ...mem(simd.store),
    // w
    ...at(0),
    ...at(0), ...mem(simd.load),
    ...get(17), ...get(21), ...s(simd.mul),
    ...get(22), ...s(simd.sqrt), ...get(18), ...s(simd.add),
    ...s(simd.div), ...s(simd.sub), ...mem(simd.store),
    ...get(12), op.i32Const, 16, op.i32Add, ...set(12),
    op.br, 0,
    op.end,
    op.end,
    op.end,
  ];
  const locals = [0x02, 0x01, 0x7f, 0x0a, 0x7b]; // one i32, ten v128
  const code = [...locals, ...body];
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const name = (t: string) => [t.length, ...Array.from(t, (c) => c.charCodeAt(0))];
  // biome-ignore format: a line per section
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 12, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7d, 0x7d, 0x7d, 0x7d, 0x7d, 0x7d, 0x7d, 0x00]),
    ...section(2, [0x01, ...name('env'), ...name('mem'), 0x02, 0x00, 0x01]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, ...name('adam'), 0x00, 0x00]),
    ...section(10, [0x01, ...leb(code.length), ...code]),
  ];
  return Uint8Array.from(bytes);
}

/** Unsigned LEB128. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

type AdamKernel = (
  w: number,
  g: number,
  m: number,
  v: number,
  bytes: number,
  b1: number,
  b2: number,
  a1: number,
  a2: number,
  step: number,
  eps: number,
  tiny: number,
) => void;

/** The part of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  Memory: new (d: { initial: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;

export class SimdAdam {
  /** The weights, one view a parameter into the module's memory; write them in place. */
  readonly weights: Float32Array[];
  private readonly grads: Float32Array[];
  private readonly moments: Float32Array[];
  /** Byte offsets of each parameter's w, g, m and v; each array is padded to whole 16-byte groups. */
  private readonly offsets: { w: number; g: number; m: number; v: number; bytes: number }[];
  private readonly kernel: AdamKernel;
  private lr: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  private t = 0;

  constructor(sizes: readonly number[], c: AdamConfig) {
    ({ learningRate: this.lr, beta1: this.b1, beta2: this.b2, epsilon: this.eps } = JsAdam.settings(c));
    const padded = sizes.map((n) => Math.ceil(n / 4) * 4);
    const total = padded.reduce((a, b) => a + b, 0) * 4 * 4;
    const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(total / 65536)) });
    compiled ??= new wasm.Module(adamModule());
    const instance = new wasm.Instance(compiled, { env: { mem: memory } });
    this.kernel = instance.exports.adam as AdamKernel;
    let at = 0;
    const take = (n: number): number => {
      const o = at;
      at += n * 4;
      return o;
    };
    this.offsets = padded.map((n) => ({ w: take(n), g: take(n), m: take(n), v: take(n), bytes: n * 4 }));
    const view = (o: number, n: number) => new Float32Array(memory.buffer, o, n);
    this.weights = this.offsets.map((o, k) => view(o.w, sizes[k]));
    this.grads = this.offsets.map((o, k) => view(o.g, sizes[k]));
    this.moments = this.offsets.flatMap((o, k) => [view(o.m, padded[k]), view(o.v, padded[k])]);
  }

  /** Forgets the moments and the step count: the next step is a first step. */
  reset(): void {
    for (const m of this.moments) m.fill(0);
    this.t = 0;
  }

  /** Changes the step size (learning-rate schedules); moments are kept. */
  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  /** One Adam step of every parameter from its gradient (k-th gradient for the k-th weight). */
  step(gradients: readonly Float32Array[]): void {
    this.t++;
    const { b1, b2 } = this;
    const { step, eps } = adamStep(this.lr, b1, b2, this.eps, this.t);
    this.offsets.forEach((o, k) => {
      this.grads[k].set(gradients[k]);
      this.kernel(o.w, o.g, o.m, o.v, o.bytes, b1, b2, 1 - b1, 1 - b2, step, eps, TINY);
    });
  }
}
