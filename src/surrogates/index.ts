/**
 * @file The surrogate registry: arch name -> entry (factory, option schema, fit defaults). The
 * `--arch` choices of `heist steal` and `heist train` are its keys. createSurrogate and
 * surrogateFromSpec are the conveniences the runs use.
 */
import { Registry } from '../core/registry.js';
import type { Rng } from '../core/rng.js';
import { cnn } from './cnn.js';
import type { SurrogateExtras } from './create.js';
import { logreg } from './logreg.js';
import { mlp } from './mlp.js';
import type { Arch, ArchOptions, Surrogate, SurrogateDeps, SurrogateEntry } from './types.js';

export const surrogates = new Registry<SurrogateDeps, Promise<Surrogate>, SurrogateEntry>('surrogate architecture', [
  logreg,
  mlp,
  cnn,
]);

/** A fresh surrogate of the given arch; initial weights come from `rng`. Options: `hidden` (mlp only). */
export async function createSurrogate(arch: Arch, opts: ArchOptions & SurrogateExtras, rng: Rng): Promise<Surrogate> {
  const { hidden, ...shape } = opts;
  return surrogates.create(arch, hidden === undefined ? {} : { hidden: [...hidden] }, { ...shape, rng });
}

export { surrogateFromSpec, archOfSpec, initWeights, type SurrogateExtras } from './create.js';
export { cnnSpec } from './cnn.js';
export { logregSpec } from './logreg.js';
export { mlpSpec, defaultHidden } from './mlp.js';
export type {
  Arch,
  ArchOptions,
  FitOptions,
  FitReport,
  FitSettings,
  Surrogate,
  SurrogateDeps,
  SurrogateEntry,
  TrainingSet,
} from './types.js';
