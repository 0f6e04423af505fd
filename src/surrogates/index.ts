/** @file Surrogate registry: arch name -> factory, createSurrogate and surrogateFromSpec. */
import { HeistError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { createCnn } from './cnn.js';
import type { SurrogateExtras } from './create.js';
import { createLogreg } from './logreg.js';
import { createMlp } from './mlp.js';
import type { Arch, ArchOptions, Surrogate } from './types.js';

export type SurrogateFactory = (opts: ArchOptions & SurrogateExtras, rng: Rng) => Promise<Surrogate>;

export const surrogates: Readonly<Record<Arch, SurrogateFactory>> = {
  logreg: createLogreg,
  mlp: createMlp,
  cnn: createCnn,
};

/** A fresh surrogate of the given arch; initial weights come from `rng`. */
export async function createSurrogate(arch: Arch, opts: ArchOptions & SurrogateExtras, rng: Rng): Promise<Surrogate> {
  const factory = (surrogates as Record<string, SurrogateFactory | undefined>)[arch];
  if (!factory) throw new HeistError('HEIST_ERR_BAD_CONFIG', `unknown surrogate arch '${arch}' (known: ${Object.keys(surrogates).join(', ')})`);
  return factory(opts, rng);
}

export { surrogateFromSpec, archOfSpec, initWeights, type SurrogateExtras } from './create.js';
export { cnnSpec } from './cnn.js';
export { logregSpec } from './logreg.js';
export { mlpSpec, defaultHidden } from './mlp.js';
export type { Arch, ArchOptions, FitOptions, FitReport, Surrogate, TrainingSet } from './types.js';
