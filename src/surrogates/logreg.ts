/** @file Softmax regression: flatten -> dense(classes) -> softmax. */
import { z } from 'zod';
import type { Rng } from '../core/rng.js';
import type { NetworkSpec } from '../models/network-spec.js';
import { type SurrogateExtras, buildSurrogate, denseTemplate, requireShape } from './create.js';
import type { ArchOptions, Surrogate, SurrogateEntry } from './types.js';

export function logregSpec(opts: ArchOptions): NetworkSpec {
  const d = opts.inputShape.reduce((a, b) => a * b, 1);
  requireShape(d > 0 && opts.classes >= 2, 'logreg needs a non-empty input and at least 2 classes');
  const layers = opts.inputShape.length > 1 ? [{ type: 'flatten' as const }] : [];
  return {
    inputShape: [...opts.inputShape],
    classes: opts.classes,
    layers: [...layers, denseTemplate(d, opts.classes), { type: 'softmax' }],
  };
}

export async function createLogreg(opts: ArchOptions & SurrogateExtras, rng: Rng): Promise<Surrogate> {
  return buildSurrogate('logreg', logregSpec(opts), rng, opts);
}

export const logreg: SurrogateEntry<Record<string, never>> = {
  name: 'logreg',
  summary: 'softmax regression: flatten -> dense(classes) -> softmax',
  options: z.object({}).strict(),
  fit: { epochs: 20, minSteps: 300, maxEpochs: 300, batchSize: 32, learningRate: 0.01, schedule: 'cosine' },
  victimEpochs: 400,
  unsuitable: () => undefined,
  exampleShape: [6],
  create: (_options, deps) => createLogreg(deps, deps.rng),
};
