/**
 * @file The class of attack a steal achieved, as the model-extraction literature reports them,
 * each with its typical fidelity range:
 * - functionally equivalent: trained on the target's probabilities and matching its behaviour
 *   (fidelity at least 0.90; typically 0.90-0.99);
 * - task accuracy: trained on labels only, solving the target's task (fidelity at least 0.80;
 *   typically 0.80-0.95);
 * - approximation: below those, as limited queries give (typically 0.70-0.90).
 * Exact extraction (equation solving, path finding) is reported by `heist extract`, not here.
 * @see M. Jagielski et al., "High Accuracy and High Fidelity Extraction of Neural Networks", USENIX Security 2020, arXiv:1909.01838 (the taxonomy of fidelity versus accuracy goals).
 */
export const ATTACK_CLASSES = [
  {
    name: 'functionally-equivalent',
    meaning: "matches the target's behaviour, trained on its probabilities",
    typicalFidelity: [0.9, 0.99],
  },
  { name: 'task-accuracy', meaning: "solves the target's task from its labels only", typicalFidelity: [0.8, 0.95] },
  { name: 'approximation', meaning: 'an approximate copy, as limited queries give', typicalFidelity: [0.7, 0.9] },
] as const;

export type AttackClassName = (typeof ATTACK_CLASSES)[number]['name'];

export interface AttackClass {
  readonly name: AttackClassName;
  readonly typicalFidelity: readonly [number, number];
  /** Why this class: the labels used and the fidelity reached. */
  readonly reason: string;
}

/** The class of a steal trained on `labels` that reached `fidelity`; undefined without a fidelity. */
export function classifyAttack(labels: 'soft' | 'hard', fidelity: number | undefined): AttackClass | undefined {
  if (fidelity === undefined || !Number.isFinite(fidelity)) return undefined;
  const f = fidelity.toFixed(4);
  const pick = (name: AttackClassName, reason: string): AttackClass => {
    const c = ATTACK_CLASSES.find((x) => x.name === name)!;
    return { name, typicalFidelity: [c.typicalFidelity[0], c.typicalFidelity[1]], reason };
  };
  if (labels === 'soft' && fidelity >= 0.9)
    return pick('functionally-equivalent', `probabilities, fidelity ${f} >= 0.90`);
  if (labels === 'hard' && fidelity >= 0.8) return pick('task-accuracy', `labels only, fidelity ${f} >= 0.80`);
  return pick(
    'approximation',
    `${labels === 'soft' ? 'probabilities' : 'labels only'}, fidelity ${f} < ${labels === 'soft' ? '0.90' : '0.80'}`,
  );
}
