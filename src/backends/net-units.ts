/**
 * @file A NetworkSpec lowered to the units a training engine executes: dense and conv layers with
 * their ReLU fused, max-pool, ReLU, flatten; the trailing softmax is dropped (the loss applies it).
 * conv -> relu -> maxpool becomes conv -> maxpool -> relu (the same result, 4x less ReLU work, and no
 * ties at zero inside a pooling window). Shared by every engine, so they train the same network.
 */
import { HeistError } from '../core/errors.js';
import type { LayerSpec } from '../models/network-spec.js';

export type Pad = 'same' | 'valid';

export type Unit =
  | { kind: 'dense'; p: number; relu: boolean }
  | { kind: 'conv'; p: number; relu: boolean; pad: Pad; kh: number; kw: number }
  | { kind: 'pool'; size: number }
  | { kind: 'relu' }
  | { kind: 'flatten' };

export interface CompiledNet {
  readonly units: Unit[];
  /** The spec's weights in spec order (kernel, bias per dense/conv layer); not copied. */
  readonly params: Float32Array[];
  /** Spec-layout shapes: dense [in, out], conv [kh, kw, cin, cout], biases [n]. */
  readonly shapes: number[][];
}

export function compileUnits(layers: readonly LayerSpec[]): CompiledNet {
  const units: Unit[] = [];
  const params: Float32Array[] = [];
  const shapes: number[][] = [];
  const body = layers.length > 0 && layers[layers.length - 1].type === 'softmax' ? layers.slice(0, -1) : layers;
  for (let i = 0; i < body.length; i++) {
    const l = body[i];
    const next = body[i + 1]?.type;
    if (l.type === 'dense' || l.type === 'conv2d') {
      const p = params.length;
      if (l.type === 'dense') {
        params.push(l.kernel, l.bias);
        shapes.push([l.inputs, l.units], [l.units]);
      } else {
        const [kh, kw] = l.kernelSize;
        params.push(l.kernel, l.bias);
        shapes.push([kh, kw, l.inChannels, l.filters], [l.filters]);
      }
      const poolAfterRelu = l.type === 'conv2d' && next === 'relu' && body[i + 2]?.type === 'maxpool2d';
      const relu = next === 'relu' && !poolAfterRelu;
      units.push(
        l.type === 'dense'
          ? { kind: 'dense', p, relu }
          : { kind: 'conv', p, relu, pad: l.padding, kh: l.kernelSize[0], kw: l.kernelSize[1] },
      );
      if (relu) i++;
      if (poolAfterRelu) {
        const pool = body[i + 2] as { type: 'maxpool2d'; size: number };
        units.push({ kind: 'pool', size: pool.size }, { kind: 'relu' });
        i += 2;
      }
    } else if (l.type === 'relu') units.push({ kind: 'relu' });
    else if (l.type === 'maxpool2d') units.push({ kind: 'pool', size: l.size });
    else if (l.type === 'flatten') units.push({ kind: 'flatten' });
    else throw new HeistError('HEIST_ERR_BAD_MODEL', `softmax may only be the last layer`);
  }
  for (let k = 0; k < params.length; k++) {
    const need = shapes[k].reduce((a, b) => a * b, 1);
    if (params[k].length !== need)
      throw new HeistError('HEIST_ERR_BAD_MODEL', `parameter ${k} has ${params[k].length} values, expected ${need}`);
  }
  return { units, params, shapes };
}
