/**
 * @file The defense matrix as a markdown table (matrix.md): one row per configuration, its honest-user
 * numbers, then per attack the clone's fidelity, accuracy and detection delay.
 */
import type { GridConfig } from './defense-grid.js';
import { getMatrixAttack } from './defense-matrix-attacks.js';
import type { AttackCellResult, HonestResult } from './defense-matrix-measure.js';

/**
 * What the table reads of a DefenseMatrix (defense-matrix-run.ts), spelled out here so that this file
 * imports nothing back from there.
 */
export interface MatrixTableInput {
  readonly settings: {
    readonly scenario: string;
    readonly budget: number;
    readonly seed: number;
    readonly arch: string | null;
    readonly attacks: readonly string[];
    readonly requestRows: number;
  };
  readonly victimAccuracy: number;
  readonly configs: readonly (HonestResult & { readonly name: string; readonly defenses: GridConfig['defenses'] })[];
  readonly cells: readonly (AttackCellResult & { readonly config: string; readonly attack: string })[];
}

const num = (v: number | null, digits = 3): string => (v === null ? 'n/a' : v.toFixed(digits));

/** The markdown table: one row per configuration; per attack fidelity / accuracy / detection delay. */
export function matrixMarkdown(m: MatrixTableInput): string {
  const { scenario, budget, seed, arch, attacks } = m.settings;
  const head = [
    'config',
    'honest acc',
    'top-1 kept',
    'L1',
    'changes labels',
    'honest flagged',
    ...attacks.flatMap((a) => [`${a} fidelity`, `${a} acc`, `${a} delay`]),
  ];
  const lines = [
    `# Defense matrix: ${scenario}, ${budget} attacker queries, seed ${seed}${arch ? `, arch ${arch}` : ''}`,
    '',
    `Undefended victim accuracy on the evaluation split: ${m.victimAccuracy.toFixed(3)}. Fidelity is the clone's`,
    "top-1 agreement with the undefended victim; accuracy is against the true labels; delay is the attacker's",
    `rows up to the first detector flag (requests of ${m.settings.requestRows} rows), or never. See docs/defense-matrix.md.`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ];
  for (const c of m.configs) {
    const cells = attacks.flatMap((a) => {
      const cell = m.cells.find((x) => x.config === c.name && x.attack === a);
      if (!cell) return ['', '', ''];
      const hard = cell.labels === 'hard' && getMatrixAttack(a).labels === 'soft' ? ' (hard)' : '';
      return [
        `${num(cell.fidelity)}${hard}`,
        num(cell.accuracy),
        cell.error ? `failed: ${cell.error.split(':')[0]}` : (cell.detectionDelay?.toString() ?? 'never'),
      ];
    });
    lines.push(
      `| ${[c.name, num(c.honestAccuracy), num(c.top1Kept), num(c.meanL1), c.changesLabels ? 'yes' : 'no', c.honestFlaggedAfter?.toString() ?? 'never', ...cells].join(' | ')} |`,
    );
  }
  lines.push('', '(hard): a soft-label attack that had to train on labels, the configuration serving labels only.');
  lines.push(
    ...m.settings.attacks.map((a) => `- attack \`${a}\`: ${getMatrixAttack(a).summary}`),
    '',
    ...m.configs.map(
      (c) =>
        `- \`${c.name}\`: ${c.defenses.length === 0 ? 'no defenses' : c.defenses.map((d) => `${d.name} ${JSON.stringify(d.options ?? {})}`).join(' -> ')}`,
    ),
  );
  return `${lines.join('\n')}\n`;
}
