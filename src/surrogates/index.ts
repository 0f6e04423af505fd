/**
 * @file The surrogate registry: arch name -> entry (factory, option schema, fit defaults). The
 * `--arch` choices of `heist steal` and `heist train` are its keys. createSurrogate and
 * surrogateFromSpec are the conveniences the runs use.
 */
import { Registry } from '../core/registry.js';
import type { Rng } from '../core/rng.js';
import { cnn } from './cnn.js';
import type { SurrogateExtras } from './create.js';
import { ensembleOf } from './ensemble.js';
import { logreg } from './logreg.js';
import { mlp } from './mlp.js';
import type { Arch, ArchOptions, Surrogate, SurrogateDeps, SurrogateEntry } from './types.js';

export const surrogates = new Registry<SurrogateDeps, Promise<Surrogate>, SurrogateEntry>('surrogate architecture', [
  logreg,
  mlp,
  cnn,
]);

/**
 * A fresh surrogate of the given arch; initial weights come from `rng`. Options: `hidden` (mlp
 * only); `members` > 1 makes an ensemble of that many (ensemble.ts), member k initialised from the
 * stream `member-k` of `rng`.
 */
export async function createSurrogate(arch: Arch, opts: ArchOptions & SurrogateExtras, rng: Rng): Promise<Surrogate> {
  const { hidden, members = 1, ...shape } = opts;
  const one = (r: Rng) =>
    surrogates.create(arch, hidden === undefined ? {} : { hidden: [...hidden] }, { ...shape, rng: r });
  if (members === 1) return one(rng);
  const all: Surrogate[] = [];
  try {
    for (let k = 0; k < members; k++) all.push(await one(rng.fork(`member-${k}`)));
  } catch (err) {
    for (const m of all) m.dispose();
    throw err;
  }
  return ensembleOf(all);
}

export { surrogateFromSpec, archOfSpec, initWeights, type SurrogateExtras } from './create.js';
export { cnnSpec } from './cnn.js';
export { MAX_ENSEMBLE_MEMBERS } from './ensemble.js';
export { mergeSpecs } from './merge-specs.js';
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
