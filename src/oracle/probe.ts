/**
 * @file probeInfo: check what a target really answers against what it declares, with a few paid
 * rows (purpose 'probe'; uniform in the declared domain, from the seeded rng). Use it before an
 * attack that needs probabilities, so a label-only target fails before the budget is spent.
 */
import { HeistError } from '../core/errors.js';
import { type ModelInfo, type OutputKind, inputSize } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import type { Oracle } from './types.js';

export interface ProbeOptions {
  readonly rng: Rng;
  /** Rows to buy (default 2). */
  readonly rows?: number;
}

export interface ProbeReport {
  /** The declared info with `output` replaced by what was observed. */
  readonly info: ModelInfo;
  readonly declared: OutputKind;
  readonly observed: OutputKind;
  /** Differences between the declaration and the answers (empty when they agree). */
  readonly mismatches: readonly string[];
  readonly rowsSpent: number;
}

export async function probeInfo(oracle: Oracle, opts: ProbeOptions): Promise<ProbeReport> {
  const info = oracle.info;
  const n = opts.rows ?? 2;
  if (!Number.isInteger(n) || n < 1)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `probe rows must be a positive integer, got ${n}`);
  const size = inputSize(info);
  const data = new Float32Array(n * size);
  for (let i = 0; i < data.length; i++) data[i] = opts.rng.uniform(info.domain.min, info.domain.max);
  const p = await oracle.query({ data, shape: [n, ...info.inputShape] }, { purpose: 'probe' });
  const mismatches: string[] = [];
  if (p.kind !== info.output) mismatches.push(`declares output '${info.output}' but answered '${p.kind}'`);
  if (p.scores) {
    const k = p.scores.shape[1] ?? 0;
    if (k !== info.classes) mismatches.push(`declares ${info.classes} classes but answered ${k} scores per row`);
    if (p.kind === 'probs') {
      for (let i = 0; i < n; i++) {
        const s = p.scores.data.subarray(i * k, (i + 1) * k).reduce((a, b) => a + b, 0);
        if (Math.abs(s - 1) > 0.05) {
          mismatches.push(`probabilities of row ${i} sum to ${s.toFixed(3)}`);
          break;
        }
      }
    }
  }
  if (Array.from(p.labels).some((l) => l < 0 || l >= info.classes)) mismatches.push('a label is outside [0, classes)');
  return { info: { ...info, output: p.kind }, declared: info.output, observed: p.kind, mismatches, rowsSpent: n };
}

/** Throws HEIST_ERR_REQUIREMENTS unless the target answers one of the needed output kinds. */
export function requireOutput(report: ProbeReport, needed: readonly OutputKind[]): void {
  if (!needed.includes(report.observed)) {
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `this needs output ${needed.join(' or ')}, the target answers '${report.observed}'`,
      {
        details: { needed, observed: report.observed, mismatches: report.mismatches },
      },
    );
  }
}
