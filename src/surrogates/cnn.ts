/**
 * @file The small CNN: conv3x3(16, same) -> relu -> maxpool2 -> conv3x3(32, same) -> relu -> maxpool2
 * -> flatten -> dense(64) -> relu -> dense(classes) -> softmax. Input [h, w, c], NHWC.
 */
import { z } from 'zod';
import type { Rng } from '../core/rng.js';
import type { NetworkSpec } from '../models/network-spec.js';
import { type SurrogateExtras, buildSurrogate, convTemplate, denseTemplate, requireShape } from './create.js';
import type { ArchOptions, Surrogate, SurrogateEntry } from './types.js';

export function cnnSpec(opts: ArchOptions): NetworkSpec {
  requireShape(opts.inputShape.length === 3, `cnn needs an [h, w, c] input shape, got [${opts.inputShape}]`);
  const [h, w, c] = opts.inputShape;
  requireShape(h >= 4 && w >= 4 && c >= 1 && opts.classes >= 2, 'cnn needs h, w >= 4, c >= 1 and at least 2 classes');
  const flat = Math.floor(Math.floor(h / 2) / 2) * Math.floor(Math.floor(w / 2) / 2) * 32;
  return {
    inputShape: [h, w, c],
    classes: opts.classes,
    layers: [
      convTemplate(3, c, 16),
      { type: 'relu' },
      { type: 'maxpool2d', size: 2 },
      convTemplate(3, 16, 32),
      { type: 'relu' },
      { type: 'maxpool2d', size: 2 },
      { type: 'flatten' },
      denseTemplate(flat, 64),
      { type: 'relu' },
      denseTemplate(64, opts.classes),
      { type: 'softmax' },
    ],
  };
}

export async function createCnn(opts: ArchOptions & SurrogateExtras, rng: Rng): Promise<Surrogate> {
  return buildSurrogate('cnn', cnnSpec(opts), rng, opts);
}

export const cnn: SurrogateEntry<Record<string, never>> = {
  name: 'cnn',
  summary: 'small CNN for [h, w, c] images: 2 x (conv3x3 -> relu -> maxpool2) -> dense(64) -> dense -> softmax',
  options: z.object({}).strict(),
  fit: {
    epochs: 20,
    minSteps: 1000,
    maxEpochs: 300,
    batchSize: 32,
    learningRate: 0.002,
    schedule: 'cosine',
    shiftAugment: 2,
  },
  victimEpochs: 12,
  unsuitable: (shape) =>
    shape.length === 3 ? undefined : `cnn needs image inputs [h, w, c], not [${shape.join(', ')}]`,
  exampleShape: [8, 8, 1],
  create: (_options, deps) => createCnn(deps, deps.rng),
};
