/**
 * @file The attacks of the defense matrix (`heist bench defenses --attacks`), named as the CLI
 * choices: each a `runSteal` of one query strategy and label kind over one round, or a paper's
 * recipe with its own rounds (recipes/). The default grid runs the one-round attacks; the recipes
 * are named with --attacks.
 */
import { HeistError } from '../core/errors.js';

export interface MatrixAttack {
  readonly name: string;
  readonly summary: string;
  /** How it buys: a strategy registry key in one round of the whole budget, or a recipe's own schedule. */
  readonly steal: { readonly strategy: string } | { readonly recipe: string };
  /** Whether it draws from the scenario's pool. */
  readonly pool: boolean;
  /** Soft falls back to hard against a label-only configuration (a real attacker has no choice). */
  readonly labels: 'soft' | 'hard';
  /** In the matrix when --attacks is not given. */
  readonly byDefault: boolean;
}

export const matrixAttacks: readonly MatrixAttack[] = [
  {
    name: 'soft-pool',
    summary: "the scenario's attacker pool, distilling probabilities (Knockoff Nets style)",
    steal: { strategy: 'pool' },
    pool: true,
    labels: 'soft',
    byDefault: true,
  },
  {
    name: 'hard-pool',
    summary: "the scenario's attacker pool, training on top-1 labels (Copycat CNN style)",
    steal: { strategy: 'pool' },
    pool: true,
    labels: 'hard',
    byDefault: true,
  },
  {
    name: 'soft-random',
    summary:
      'uniform random inputs over the declared domain, distilling probabilities (an out-of-distribution attacker)',
    steal: { strategy: 'random' },
    pool: false,
    labels: 'soft',
    byDefault: true,
  },
  {
    name: 'active-learning',
    summary: 'ActiveThief (Pal et al. 2020): k-center picks from the pool, round after round, distilling probabilities',
    steal: { recipe: 'activethief-pal-2020' },
    pool: true,
    labels: 'soft',
    byDefault: false,
  },
  {
    name: 'heist',
    summary:
      "Heist's default recipe: k-center picks from the pool, probabilities softened to temperature 4 (labels smoothed by 0.2 where only labels are served)",
    steal: { recipe: 'heist' },
    pool: true,
    labels: 'soft',
    byDefault: false,
  },
  {
    name: 'jacobian-augmentation',
    summary:
      "Papernot et al. 2017: 150 pool seeds, then synthetic rows stepped along the substitute's Jacobian, labels only",
    steal: { recipe: 'jbda-papernot-2017' },
    pool: true,
    labels: 'hard',
    byDefault: false,
  },
];

export const matrixAttackNames = (): string[] => matrixAttacks.map((a) => a.name);

/** The attacks of a matrix run without --attacks. */
export const defaultMatrixAttackNames = (): string[] => matrixAttacks.filter((a) => a.byDefault).map((a) => a.name);

export function getMatrixAttack(name: string): MatrixAttack {
  const a = matrixAttacks.find((x) => x.name === name);
  if (!a)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `unknown attack "${name}" (known: ${matrixAttackNames().join(', ')})`);
  return a;
}
