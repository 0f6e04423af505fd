/**
 * @file The attacks of the defense matrix (`heist bench defenses --attacks`): each a `runSteal`
 * recipe (query strategy + label kind), named as the CLI choices, and the attacks the matrix lists
 * as not available because Heist does not implement them yet.
 */
import { HeistError } from '../core/errors.js';

export interface MatrixAttack {
  readonly name: string;
  readonly summary: string;
  /** A strategy registry key. */
  readonly strategy: 'pool' | 'random';
  /** Soft falls back to hard against a label-only configuration (a real attacker has no choice). */
  readonly labels: 'soft' | 'hard';
}

export const matrixAttacks: readonly MatrixAttack[] = [
  {
    name: 'soft-pool',
    summary: "the scenario's attacker pool, distilling probabilities (Knockoff Nets style)",
    strategy: 'pool',
    labels: 'soft',
  },
  {
    name: 'hard-pool',
    summary: "the scenario's attacker pool, training on top-1 labels (Copycat CNN style)",
    strategy: 'pool',
    labels: 'hard',
  },
  {
    name: 'soft-random',
    summary:
      'uniform random inputs over the declared domain, distilling probabilities (an out-of-distribution attacker)',
    strategy: 'random',
    labels: 'soft',
  },
];

/** Named in the matrix's output as not available (an open issue adds them). */
export const unavailableAttacks: readonly { readonly name: string; readonly why: string }[] = [
  { name: 'active-learning', why: 'no active-learning query strategy in Heist yet' },
  { name: 'jacobian-augmentation', why: 'no Jacobian-based dataset augmentation (Papernot et al.) in Heist yet' },
];

export const matrixAttackNames = (): string[] => matrixAttacks.map((a) => a.name);

export function getMatrixAttack(name: string): MatrixAttack {
  const a = matrixAttacks.find((x) => x.name === name);
  if (!a) {
    const missing = unavailableAttacks.find((x) => x.name === name);
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      missing
        ? `attack "${name}" is not available: ${missing.why}`
        : `unknown attack "${name}" (known: ${matrixAttackNames().join(', ')})`,
    );
  }
  return a;
}
