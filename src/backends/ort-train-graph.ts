/**
 * @file One ONNX graph per training step, for onnxruntime's native CPU kernels: the forward pass,
 * the backward pass written out by hand for every unit (net-units.ts) and the softmax cross-entropy
 * run inside one session.run; the weights are graph inputs. The caller applies Adam on the host
 * (ort-net.ts says why).
 *
 * Two graphs come from one builder: 'gradients' (the loss and the weight gradients, what a training
 * step needs) and 'input-gradients' (the gradient of the loss with respect to the input rows, for
 * attacks crafted on a substitute). Predictions use the plain inference graph of onnx-writer.ts.
 *
 * Layout: images run NCHW (transposed from NHWC at the first conv or pool), or, where the CPU has
 * onnxruntime's NCHWc kernels and every conv fits their channel block (`fitsNchwc`), in that
 * blocked layout (ort-nchwc.ts): convs, pools and upsampling through the `com.microsoft.nchwc`
 * ops, kernels reordered in the graph. Conv kernels are OHWI ([cout, kh, kw, cin], the transpose
 * of the spec's [kh kw cin, cout] matrix; ort-net.ts converts), dense kernels stay [in, out]. The
 * rules, with g the gradient of a unit's output:
 * - dense: y = x W + b; dW = x^T g, db = sum over rows of g, dx = g W^T (Gemm with transA / transB);
 * - conv: y = onnxruntime's Conv (NCHWc: its blocked Conv, ReLU fused); dW from im2col columns of
 *   x ([n, cin kh kw, oh ow]: one grouped Conv with one-hot kernels) and one batched matmul summed
 *   over the rows; db = sum of g over n, h, w (over the pool's output when a pool follows);
 *   dx = ConvTranspose(g, W) with the forward pads (NCHWc: a blocked Conv of g with the kernel
 *   flipped, which skips ConvTranspose's col2im);
 * - max-pool: g goes to the inputs equal to their window's maximum, split evenly among ties
 *   (poolBackward says why that matches the exact gradient wherever it matters);
 * - ReLU: g * (y > 0), y being the ReLU output (>= 0);
 * - loss: d(mean CE)/d logits = (softmax - t) / n.
 * Profiled alternatives (docs/architecture.md, "Training engines"): onnxruntime's Conv for dW with
 * the batch as channels (2.5x slower than the columns), MaxPool's indices output with MaxUnpool
 * (10x the pool itself), one big [kh kw cin, n oh ow] GEMM per conv (slower: MLAS handles the
 * skinny shapes poorly), chunking the batch to keep columns in cache (slower), the 'all' level's
 * own NCHWc pass (it needs constant weights, and reorders around every backward op).
 * Every rule is checked against finite differences (test/conformance/training-engines.test.ts) and
 * against the tfjs engine (ort-net.test.ts).
 */
import { HeistError } from '../core/errors.js';
import type { OnnxAttr } from './onnx-graph.js';
import { samePads } from './onnx-writer.js';
import { StepOps } from './ort-step-ops.js';
import type { Unit } from './net-units.js';

export type StepGraphMode = 'gradients' | 'input-gradients';

export interface StepGraphSpec {
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly units: readonly Unit[];
  /** Runtime-layout shapes of the parameters (conv kernels OHWI: [cout, kh, kw, cin]). */
  readonly shapes: readonly (readonly number[])[];
  /**
   * onnxruntime's NCHWc channel block on this CPU (ort-nchwc.ts), 0 or absent for none. When every
   * conv fits it (`fitsNchwc`), the image units run in that blocked layout.
   */
  readonly nchwcBlock?: number;
}

/** Graph value names shared with ort-net.ts. */
export const STEP_IO = {
  x: 'x',
  targets: 'targets',
  /** 1/n: the loss is the mean over the n rows. */
  invN: 'inv_n',
  /** The factor on d loss / d logits: 1/n for mean gradients, 1 for each row's own ('input-gradients'). */
  scale: 'scale',
  loss: 'loss',
  probs: 'probs',
  param: (k: number) => `p${k}`,
  grad: (k: number) => `g${k}`,
  /** d loss / d x, in the input's own layout ('input-gradients'). */
  dx: 'dx',
} as const;

/** How an activation lies in memory: NCHWc is onnxruntime's blocked layout (ort-nchwc.ts). */
type Layout = 'flat' | 'nhwc' | 'nchw' | 'nchwc';

/** What a unit's forward pass leaves for its backward pass. */
interface Saved {
  x: string;
  y: string;
  /** Image shape [c, h, w] of x, when x is an image. */
  chw?: [number, number, number];
  /** The layout of x. */
  layout: Layout;
}

/** Output height and width of a stride-1 conv. */
const oh = (u: Extract<Unit, { kind: 'conv' }>, h: number): number => (u.pad === 'same' ? h : h - u.kh + 1);
const ow = (u: Extract<Unit, { kind: 'conv' }>, w: number): number => (u.pad === 'same' ? w : w - u.kw + 1);

/**
 * Whether the image units can run in NCHWc with channel block b: the image part starts with a conv,
 * every conv has a multiple of b output channels (so every later input is one too) and every pool's
 * windows tile its input. The first conv may read fewer than b channels (NCHW input).
 */
export function fitsNchwc(spec: Pick<StepGraphSpec, 'inputShape' | 'units' | 'shapes'>, b: number): boolean {
  if (b < 2 || spec.inputShape.length !== 3) return false;
  let [h, w, c] = spec.inputShape;
  let convs = 0;
  for (const u of spec.units) {
    if (u.kind === 'flatten') break;
    if (u.kind === 'conv') {
      const [cout] = spec.shapes[u.p];
      if (cout % b !== 0 || (c >= b && c % b !== 0)) return false;
      [h, w, c] = [oh(u, h), ow(u, w), cout];
      convs += 1;
    } else if (u.kind === 'pool') {
      if (convs === 0 || h % u.size !== 0 || w % u.size !== 0) return false;
      [h, w] = [h / u.size, w / u.size];
    }
  }
  return convs > 0;
}

class StepGraph extends StepOps {
  constructor(private readonly spec: StepGraphSpec) {
    const b = spec.nchwcBlock ?? 0;
    super(STEP_IO.param, spec.shapes, b > 0 && fitsNchwc(spec, b) ? b : 0);
  }

  private pads(u: Extract<Unit, { kind: 'conv' }>): number[] {
    return u.pad === 'same' ? samePads(u.kh, u.kw) : [0, 0, 0, 0];
  }

  /** Forward pass from x to logits, recording what backward needs. */
  forward(x: string, saved: Saved[]): string {
    let h = x;
    // Images arrive NHWC; they move to NCHW (or NCHWc) at the first conv or pool, and back to NHWC
    // before flatten.
    let layout: Layout = this.spec.inputShape.length === 3 ? 'nhwc' : 'flat';
    let chw: [number, number, number] | undefined;
    if (layout === 'nhwc') {
      const [ih, iw, ic] = this.spec.inputShape;
      chw = [ic, ih, iw];
    } else if (this.spec.inputShape.length !== 1) {
      throw new HeistError(
        'HEIST_ERR_BAD_MODEL',
        `the onnxruntime engine trains [d] or [h, w, c] inputs, not [${this.spec.inputShape}]`,
      );
    }
    for (const u of this.spec.units) {
      if ((u.kind === 'conv' || u.kind === 'pool') && !chw)
        throw new HeistError('HEIST_ERR_BAD_MODEL', `${u.kind} needs an image input`);
      if (layout === 'nhwc' && chw && (u.kind === 'conv' || u.kind === 'pool')) {
        // A blocked conv reads NCHW when the image has fewer channels than a block.
        const blockIn = this.block > 0 && chw[0] >= this.block;
        h = blockIn ? this.nchwc('ReorderInput', [h], { channels_last: { i: 1 } }) : this.nhwcToNchw(h, chw);
        layout = blockIn ? 'nchwc' : 'nchw';
      }
      const s: Saved = { x: h, y: h, chw, layout };
      if (u.kind === 'dense') {
        h = this.node('Gemm', [h, STEP_IO.param(u.p), STEP_IO.param(u.p + 1)]);
        if (u.relu) h = this.node('Relu', [h]);
      } else if (u.kind === 'conv' && chw) {
        const [cout] = this.spec.shapes[u.p];
        const attrs = { kernel_shape: { ints: [u.kh, u.kw] }, strides: { ints: [1, 1] }, pads: { ints: this.pads(u) } };
        if (this.block) {
          const w = this.blockedKernel(u.p, layout === 'nchwc');
          const act: Record<string, OnnxAttr> = u.relu ? { activation: { s: 'Relu' } } : {};
          h = this.nchwc('Conv', [h, w, STEP_IO.param(u.p + 1)], { ...attrs, ...act });
          layout = 'nchwc';
        } else {
          // onnxruntime's own Conv (per-image im2col in cache, bias fused) for the forward pass.
          h = this.node('Conv', [h, this.oihwKernel(u.p), STEP_IO.param(u.p + 1)], attrs);
          if (u.relu) h = this.node('Relu', [h]);
        }
        chw = [cout, oh(u, chw[1]), ow(u, chw[2])];
      } else if (u.kind === 'pool' && chw) {
        const attrs = { kernel_shape: { ints: [u.size, u.size] }, strides: { ints: [u.size, u.size] } };
        h = layout === 'nchwc' ? this.nchwc('MaxPool', [h], attrs) : this.node('MaxPool', [h], attrs);
        chw = [chw[0], Math.floor(chw[1] / u.size), Math.floor(chw[2] / u.size)];
      } else if (u.kind === 'relu') {
        h = this.node('Relu', [h]);
      } else if (u.kind === 'flatten' && chw) {
        // Spec flatten is row-major over [h, w, c]: back to NHWC first.
        if (layout === 'nchw') h = this.node('Transpose', [h], { perm: { ints: [0, 2, 3, 1] } });
        if (layout === 'nchwc')
          h = this.nchwc('ReorderOutput', [h], { channels: { i: chw[0] }, channels_last: { i: 1 } });
        h = this.node('Flatten', [h], { axis: { i: 1 } });
        chw = undefined;
        layout = 'flat';
      }
      s.y = h;
      saved.push(s);
    }
    return h;
  }

  /**
   * Backward pass from d loss / d logits: the gradient name per parameter, and with `toInput` the
   * gradient with respect to the graph's input x (back in its NHWC or flat layout).
   */
  backward(dlogits: string, saved: Saved[], toInput = false): { grads: string[]; dx?: string } {
    const grads: string[] = new Array(this.spec.shapes.length);
    let g = dlogits;
    // The gradient at the output of the last pool passed: a pool hands each window's gradient to
    // its maxima whole, so a conv's bias gradient is the sum of it (4x fewer values to add).
    let atPoolOutput: string | undefined;
    for (let k = this.spec.units.length - 1; k >= 0; k--) {
      const u = this.spec.units[k];
      const { x, y, chw, layout } = saved[k];
      const needDx = k > 0 || toInput;
      if (u.kind === 'dense') {
        if (u.relu) g = this.reluBackward(g, y);
        grads[u.p] = this.node('Gemm', [x, g], { transA: { i: 1 } });
        grads[u.p + 1] = this.node('ReduceSum', [g, this.axes([0])], { keepdims: { i: 0 } });
        if (needDx) g = this.node('Gemm', [g, STEP_IO.param(u.p)], { transB: { i: 1 } });
      } else if (u.kind === 'conv' && chw) {
        if (u.relu) g = this.reluBackward(g, y);
        const pooled = !u.relu && this.spec.units[k + 1]?.kind === 'pool' ? atPoolOutput : undefined;
        grads[u.p] = this.convKernelGradient(u, x, layout, chw, g);
        grads[u.p + 1] = this.channelSums(pooled ?? g, this.spec.shapes[u.p][0]);
        if (needDx) g = this.convInputGradient(u, layout, g);
      } else if (u.kind === 'pool' && chw) {
        atPoolOutput = g;
        g = this.poolBackward(x, y, g, u.size, chw, layout === 'nchwc');
      } else if (u.kind === 'relu') {
        g = this.reluBackward(g, y);
      } else if (u.kind === 'flatten' && chw && needDx) {
        const [c, h, w] = chw;
        g = this.node('Reshape', [g, this.axes([-1, h, w, c])]);
        if (layout === 'nchw') g = this.node('Transpose', [g], { perm: { ints: [0, 3, 1, 2] } });
        if (layout === 'nchwc') g = this.nchwc('ReorderInput', [g], { channels_last: { i: 1 } });
      }
    }
    if (!toInput) return { grads };
    // The first conv or pool moved the NHWC input to NCHW or NCHWc: its gradient moves back.
    const first = saved[0];
    let dx = g;
    if (first?.chw && first.layout === 'nchw') dx = this.nchwToNhwc(g, first.chw);
    if (first?.chw && first.layout === 'nchwc')
      dx = this.nchwc('ReorderOutput', [g], { channels: { i: first.chw[0] }, channels_last: { i: 1 } });
    return { grads, dx };
  }

  /**
   * dW of a conv from the gradient g of its output: the im2col columns of its (NCHW) input x
   * ([n, cin kh kw, oh ow]) against g in one batched MatMul, summed over the rows, then turned to
   * OHWI. NCHW g: g [n, cout, P] times the columns transposed (FusedMatMul, onnxruntime's contrib op
   * with transB) gives [n, cout, cin kh kw]. Blocked g ([n, cout/B, P, B] in memory): the columns
   * times g, block by block, give [n, cout/B, cin kh kw, B] with no transposed operand.
   */
  private convKernelGradient(
    u: Extract<Unit, { kind: 'conv' }>,
    x: string,
    layout: Layout,
    chw: [number, number, number],
    g: string,
  ): string {
    const [cout, kh, kw, cin] = this.spec.shapes[u.p];
    const [, ih, iw] = chw;
    const xn = layout === 'nchwc' ? this.nchwc('ReorderOutput', [x], { channels: { i: cin } }) : x;
    const cols = this.im2col(xn, kh, kw, this.pads(u), cin, oh(u, ih), ow(u, iw));
    const rowSum = (t: string) => this.node('ReduceSum', [t, this.axes([0])], { keepdims: { i: 0 } });
    const b = this.block;
    if (b) {
      // dW[(ob, j), (c, a, b)] = sum over n, p of cols[n, (c, a, b), p] g[n, ob, p, j].
      const lhs = this.node('Reshape', [cols, this.axes([0, 1, cin * kh * kw, -1])]);
      const rhs = this.node('Reshape', [g, this.axes([0, cout / b, -1, b])]);
      const sum = rowSum(this.node('MatMul', [lhs, rhs]));
      const split = this.node('Reshape', [sum, this.axes([cout / b, cin, kh, kw, b])]);
      const ohwi = this.node('Transpose', [split], { perm: { ints: [0, 4, 2, 3, 1] } });
      return this.node('Reshape', [ohwi, this.axes([cout, kh, kw, cin])]);
    }
    // dW[o, (c, a, b)] = sum over rows n and positions p of g[n, o, p] cols[n, (c, a, b), p].
    const perRow = this.g.node(
      'FusedMatMul',
      [this.node('Reshape', [g, this.axes([0, cout, -1])]), cols],
      [this.g.fresh('dw')],
      { transB: { i: 1 } },
      'com.microsoft',
    );
    // The columns run (c, a, b): the sum is the OIHW kernel gradient, turned to OHWI.
    const oihw = this.node('Reshape', [rowSum(perRow), this.axes([cout, cin, kh, kw])]);
    return this.node('Transpose', [oihw], { perm: { ints: [0, 2, 3, 1] } });
  }

  /** A conv's bias gradient: the sum of g per channel, over rows and positions (NCHW or NCHWc). */
  private channelSums(g: string, channels: number): string {
    const b = this.block;
    if (!b) return this.node('ReduceSum', [g, this.axes([0, 2, 3])], { keepdims: { i: 0 } });
    const blocks = this.node('Reshape', [g, this.axes([0, channels / b, -1, b])]);
    const sums = this.node('ReduceSum', [blocks, this.axes([0, 2])], { keepdims: { i: 0 } });
    return this.node('Reshape', [sums, this.axes([channels])]);
  }

  /**
   * dx of a stride-1 conv from the gradient g of its output. Blocked: the conv of g with the kernel
   * flipped in space and its channel axes swapped, padded by k - 1 - the forward pads (an NCHWc Conv
   * again, in place of ConvTranspose's GEMM and col2im). Otherwise ConvTranspose(g, W) with the
   * forward pads, after unblocking g when a blocked conv read an NCHW input.
   */
  private convInputGradient(u: Extract<Unit, { kind: 'conv' }>, layout: Layout, g: string): string {
    const [cout, kh, kw] = this.spec.shapes[u.p];
    const pads = this.pads(u);
    if (layout === 'nchwc') {
      const flippedPads = [kh - 1 - pads[0], kw - 1 - pads[1], kh - 1 - pads[2], kw - 1 - pads[3]];
      return this.nchwc('Conv', [g, this.blockedFlippedKernel(u.p)], {
        kernel_shape: { ints: [kh, kw] },
        strides: { ints: [1, 1] },
        pads: { ints: flippedPads },
      });
    }
    const gn = this.block ? this.nchwc('ReorderOutput', [g], { channels: { i: cout } }) : g;
    return this.node('ConvTranspose', [gn, this.oihwKernel(u.p)], {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [1, 1] },
      pads: { ints: pads },
    });
  }

  /** ReLU backward, y being the ReLU's output (>= 0): g where y > 0. A Greater, Cast and Mul take
   * 40% of the time of Mul(g, Sign(y)) in onnxruntime (profiled: 0.17 against 0.42 ms at
   * [128, 16, 14, 14]). */
  private reluBackward(g: string, y: string): string {
    const on = this.node('Cast', [this.node('Greater', [y, this.scalar(0)])], { to: { i: 1 } });
    return this.node('Mul', [g, on]);
  }

  /**
   * Max-pool backward without indices (MaxPool's indices output leaves ORT's vectorised kernel and
   * cost 10x the pool itself): the gradient goes to the positions equal to their window's maximum,
   * split evenly when several are. Ties come from identical patches (a conv over a blank background
   * gives its bias everywhere), whose weight gradients are identical, so the split changes nothing
   * there; elsewhere ties have probability zero.
   */
  private poolBackward(
    x: string,
    y: string,
    g: string,
    s: number,
    chw: [number, number, number],
    blocked: boolean,
  ): string {
    const [, H, W] = chw;
    const h = Math.floor(H / s) * s;
    const w = Math.floor(W / s) * s;
    const exact = h === H && w === W;
    // fitsNchwc admits blocked pools only where the windows tile the image.
    const xc = exact ? x : this.node('Slice', [x, this.axes([0, 0]), this.axes([h, w]), this.axes([2, 3])]);
    const up = (t: string) =>
      blocked
        ? this.nchwc('Upsample', [t], { scales: { ints: [1, 1, s, s] }, mode: { s: 'nearest' } })
        : this.upsample(t, s);
    const window = { kernel_shape: { ints: [s, s] }, strides: { ints: [s, s] } };
    const mask = this.node('Cast', [this.node('Equal', [xc, up(y)])], { to: { i: 1 } });
    const share = blocked ? this.nchwc('AveragePool', [mask], window) : this.node('AveragePool', [mask], window);
    const each = this.node('Div', [g, this.node('Mul', [share, this.scalar(s * s)])]);
    const dx = this.node('Mul', [mask, up(each)]);
    return exact ? dx : this.node('Pad', [dx, this.axes([0, 0, 0, 0, 0, 0, H - h, W - w])]);
  }

  /** Mean cross-entropy to `targets` and (softmax - targets) * scale. */
  loss(logits: string, targets: string): { total: string; dlogits: string } {
    const logp = this.node('LogSoftmax', [logits], { axis: { i: -1 } });
    const total = this.node('ReduceSum', [this.node('Mul', [targets, logp])], { keepdims: { i: 0 } });
    const dlogits = this.node('Mul', [this.node('Sub', [this.node('Exp', [logp]), targets]), STEP_IO.scale]);
    return { total, dlogits };
  }
}

/** Encodes the graph for `mode` (opset 13; the batch size is dynamic). */
export function buildStepGraph(spec: StepGraphSpec, mode: StepGraphMode): Uint8Array {
  const sg = new StepGraph(spec);
  const { g } = sg;
  g.input(STEP_IO.x, ['batch', ...spec.inputShape]);
  spec.shapes.forEach((shape, k) => {
    g.input(STEP_IO.param(k), shape);
  });
  g.input(STEP_IO.targets, ['batch', spec.classes]);
  g.input(STEP_IO.invN, []);
  g.input(STEP_IO.scale, []);
  const saved: Saved[] = [];
  const logits = sg.forward(STEP_IO.x, saved);
  const { total, dlogits } = sg.loss(logits, STEP_IO.targets);
  g.node('Mul', [g.node('Neg', [total], [g.fresh('neg')]), STEP_IO.invN], [STEP_IO.loss]);
  g.output(STEP_IO.loss, []);
  const { grads, dx } = sg.backward(dlogits, saved, mode === 'input-gradients');
  if (mode === 'input-gradients') {
    g.node('Identity', [dx!], [STEP_IO.dx]);
    g.output(STEP_IO.dx, ['batch', ...spec.inputShape]);
    return g.encode({ opset: 13, producer: 'heist' });
  }
  grads.forEach((name, k) => {
    g.node('Identity', [name], [STEP_IO.grad(k)]);
    g.output(STEP_IO.grad(k), spec.shapes[k]);
  });
  return g.encode({ opset: 13, producer: 'heist' });
}
