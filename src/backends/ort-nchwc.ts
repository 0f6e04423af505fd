/**
 * @file onnxruntime's NCHWc block size on this CPU. MLAS has blocked-layout ("NCHWc") kernels for
 * convolution, pooling and upsampling that keep a block of channels innermost: 16 channels with
 * AVX-512, 8 with AVX2. onnxruntime's own layout pass uses them only for constant weights, so the
 * training step graph (ort-train-graph.ts) calls them itself, from the `com.microsoft.nchwc` domain.
 * The block is read once per process by running ReorderInput on four channels (the fewest it
 * takes): its output pads the channels to one block. 0 means no NCHWc kernels (another CPU, or a
 * build without them), or HEIST_TRAIN_NCHWC=0, which trains in NCHW (to compare, or to rule the
 * layout out).
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { OnnxGraphBuilder } from './onnx-graph.js';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

let probe: Promise<number> | undefined;

async function readBlockSize(): Promise<number> {
  const g = new OnnxGraphBuilder('heist-nchwc-probe');
  g.input('x', [1, 4, 1, 1]);
  g.node('ReorderInput', ['x'], ['y'], {}, NCHWC_DOMAIN);
  g.output('y', [1, '', 1, 1]);
  try {
    const session = await InferenceSession.create(g.encode(), { logSeverityLevel: 4 });
    try {
      const r = await session.run({ x: new Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
      const block = r.y.dims[1];
      return block >= 2 ? block : 0;
    } finally {
      await session.release();
    }
  } catch {
    return 0;
  }
}

/** The NCHWc channel block of this CPU's onnxruntime kernels, or 0 when there are none. */
export function nchwcBlockSize(): Promise<number> {
  probe ??= process.env.HEIST_TRAIN_NCHWC === '0' ? Promise.resolve(0) : readBlockSize();
  return probe;
}
