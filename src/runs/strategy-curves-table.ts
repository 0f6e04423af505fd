/**
 * @file The numbers of `heist bench strategies`: per strategy and budget, the mean, standard
 * deviation, minimum and maximum fidelity over seeds, and the markdown table of curves.md, with
 * each strategy's difference from random selection from the same pool (`pool`) when that ran too.
 */
export interface CurvePointResult {
  readonly queries: number;
  readonly fidelity: number;
  readonly accuracy: number;
}

/** One finished (strategy, seed) run. */
export interface CurveCell {
  readonly strategy: string;
  readonly seed: number;
  readonly points: readonly CurvePointResult[];
  readonly wallMs: number;
}

export interface CurveStat {
  readonly queries: number;
  /** Seeds that reached this budget (a strategy that runs dry stops early). */
  readonly n: number;
  readonly mean: number;
  readonly sd: number;
  readonly min: number;
  readonly max: number;
  readonly accuracy: number;
}

export interface StrategySummary {
  readonly strategy: string;
  readonly points: readonly CurveStat[];
  /** Mean wall time of one run (all its rounds), ms. */
  readonly wallMs: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export function summarizeCurves(cells: readonly CurveCell[], budgets: readonly number[]): StrategySummary[] {
  const names = [...new Set(cells.map((c) => c.strategy))];
  return names.map((strategy) => {
    const mine = cells.filter((c) => c.strategy === strategy);
    const points: CurveStat[] = [];
    for (const q of budgets) {
      const at = mine.flatMap((c) => c.points.filter((p) => p.queries === q));
      if (at.length === 0) continue;
      const f = at.map((p) => p.fidelity);
      const m = mean(f);
      points.push({
        queries: q,
        n: at.length,
        mean: m,
        sd: Math.sqrt(mean(f.map((v) => (v - m) ** 2))),
        min: Math.min(...f),
        max: Math.max(...f),
        accuracy: mean(at.map((p) => p.accuracy)),
      });
    }
    return { strategy, points, wallMs: mean(mine.map((c) => c.wallMs)) };
  });
}

const f4 = (v: number): string => v.toFixed(4);

export function curvesMarkdown(
  meta: {
    scenario: string;
    labels: string;
    seeds: readonly number[];
    budgets: readonly number[];
    ensemble?: number;
  },
  summary: readonly StrategySummary[],
): string {
  const members = (meta.ensemble ?? 1) > 1 ? `, each substitute an ensemble of ${meta.ensemble}` : '';
  const head = `| strategy | ${meta.budgets.join(' | ')} | run, s |`;
  const rule = `|---|${meta.budgets.map(() => '---|').join('')}---|`;
  const cell = (s: StrategySummary, q: number): string => {
    const p = s.points.find((x) => x.queries === q);
    return p
      ? `${f4(p.mean)} ± ${f4(p.sd)} (${f4(p.min)}-${f4(p.max)})${p.n < meta.seeds.length ? ` [${p.n}]` : ''}`
      : '-';
  };
  const lines = [
    `# Query strategies on ${meta.scenario} (${meta.labels} labels${members})`,
    '',
    `Fidelity (agreement with the victim on the scenario's evaluation rows) at each budget of paid queries: mean ± standard deviation over seeds ${meta.seeds.join(', ')}, then (min-max). [n]: only n seeds reached that budget.`,
    '',
    head,
    rule,
    ...summary.map(
      (s) => `| ${s.strategy} | ${meta.budgets.map((q) => cell(s, q)).join(' | ')} | ${(s.wallMs / 1000).toFixed(1)} |`,
    ),
  ];
  const base = summary.find((s) => s.strategy === 'pool');
  if (base) {
    lines.push('', 'Difference of the mean from `pool` (random selection from the same pool), in fidelity points:', '');
    lines.push(`| strategy | ${meta.budgets.join(' | ')} |`, `|---|${meta.budgets.map(() => '---|').join('')}`);
    for (const s of summary.filter((x) => x !== base)) {
      const diffs = meta.budgets.map((q) => {
        const a = s.points.find((p) => p.queries === q);
        const b = base.points.find((p) => p.queries === q);
        return a && b ? `${a.mean >= b.mean ? '+' : ''}${((a.mean - b.mean) * 100).toFixed(2)}` : '-';
      });
      lines.push(`| ${s.strategy} | ${diffs.join(' | ')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
