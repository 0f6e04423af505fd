/** @file Multi-layer perceptron: flatten -> (dense -> relu)* -> dense(classes) -> softmax. */
import { z } from 'zod';
import type { Rng } from '../core/rng.js';
import type { LayerSpec, NetworkSpec } from '../models/network-spec.js';
import { type SurrogateExtras, buildSurrogate, denseTemplate, requireShape } from './create.js';
import type { ArchOptions, Surrogate, SurrogateEntry } from './types.js';

/** Default hidden widths: [32] for inputs of at most 100 values, else [256, 128]. */
export function defaultHidden(inputSize: number): number[] {
  return inputSize <= 100 ? [32] : [256, 128];
}

export function mlpSpec(opts: ArchOptions): NetworkSpec {
  const d = opts.inputShape.reduce((a, b) => a * b, 1);
  const hidden = opts.hidden ?? defaultHidden(d);
  requireShape(d > 0 && opts.classes >= 2, 'mlp needs a non-empty input and at least 2 classes');
  requireShape(
    hidden.every((h) => Number.isInteger(h) && h > 0),
    'mlp hidden widths must be positive integers',
  );
  const layers: LayerSpec[] = opts.inputShape.length > 1 ? [{ type: 'flatten' }] : [];
  let width = d;
  for (const h of hidden) {
    layers.push(denseTemplate(width, h), { type: 'relu' });
    width = h;
  }
  layers.push(denseTemplate(width, opts.classes), { type: 'softmax' });
  return { inputShape: [...opts.inputShape], classes: opts.classes, layers };
}

export async function createMlp(opts: ArchOptions & SurrogateExtras, rng: Rng): Promise<Surrogate> {
  return buildSurrogate('mlp', mlpSpec(opts), rng, opts);
}

export const mlp: SurrogateEntry<{ hidden?: number[] }> = {
  name: 'mlp',
  summary:
    'multi-layer perceptron: (dense -> relu)* -> dense -> softmax; option hidden (default [32] for <= 100 inputs, else [256, 128])',
  options: z.object({ hidden: z.array(z.number().int().positive()).min(1).optional() }).strict(),
  example: { hidden: [8] },
  fit: { epochs: 20, minSteps: 400, maxEpochs: 300, batchSize: 32, learningRate: 0.003, schedule: 'cosine' },
  victimEpochs: 40,
  unsuitable: () => undefined,
  exampleShape: [6],
  create: (options, deps) => createMlp({ ...deps, hidden: options.hidden }, deps.rng),
};
