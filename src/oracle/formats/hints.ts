/**
 * @file What a target cannot say about itself, and the small helpers the wire formats share (URL
 * parsing, malformed-answer errors, nesting and flattening rows, picking the scores output). TF Serving's and KServe's metadata give tensor
 * shapes but no input domain, no class names and no hint whether scores are probabilities or
 * logits; a format built with these options fills the gaps (`--format-option domain={"min":0,"max":1}`).
 */
import { z } from 'zod';
import { HeistError } from '../../core/errors.js';
import type { InputDomain, OutputKind } from '../../core/prediction.js';
import type { RemoteModelInfo } from './types.js';

export const hintFields = {
  /** The input domain the attacker assumes (default [0, 1]). */
  domain: z
    .object({ min: z.number(), max: z.number() })
    .strict()
    .refine((d) => d.min < d.max, 'domain.min must be below domain.max')
    .default({ min: 0, max: 1 }),
  /** What the scores are: probabilities (default) or logits (softmaxed by Heist where needed). */
  output: z.enum(['probs', 'logits']).default('probs'),
  classNames: z.array(z.string()).min(2).optional(),
};

export interface TargetHints {
  readonly domain: InputDomain;
  readonly output: Extract<OutputKind, 'probs' | 'logits'>;
  readonly classNames?: readonly string[];
}

/** The URL, or HEIST_ERR_BAD_CONFIG naming it. */
export function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (cause) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `not a URL: ${url}`, { cause });
  }
}

/** What a shapes-only info body (TF Serving's signature, KServe's metadata) tells, checked and completed by the hints. */
export interface DeclaredShapes {
  readonly name: string;
  /** Input dims with the batch axis first (-1 or a size). */
  readonly inputDims: readonly number[];
  readonly outputDims: readonly number[];
  /** The scores output's name ("logits" in it: the scores are logits). */
  readonly outputName: string;
}

export function describeFromShapes(
  format: string,
  what: string,
  d: DeclaredShapes,
  hints: TargetHints,
): RemoteModelInfo {
  const inputShape = d.inputDims.slice(1);
  const classes = d.outputDims[d.outputDims.length - 1];
  if (inputShape.length === 0 || !inputShape.every((n) => n > 0))
    throw malformed(format, what, ['the input has no fixed row shape']);
  if (!(classes >= 2)) throw malformed(format, what, ['the output has no class axis']);
  if (hints.classNames && hints.classNames.length !== classes) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `${format}: ${hints.classNames.length} classNames for ${classes} classes`,
    );
  }
  return {
    name: d.name,
    inputShape,
    classes,
    ...(hints.classNames ? { classNames: [...hints.classNames] } : {}),
    output: /logit/i.test(d.outputName) ? 'logits' : hints.output,
    domain: hints.domain,
  };
}

export function malformed(format: string, what: string, issues: unknown): HeistError {
  return new HeistError('HEIST_ERR_UPSTREAM', `the target's ${what} answer does not match ${format}`, {
    details: { issues },
  });
}

/** A row-major flat row as nested arrays of the given shape (TF Serving's row format). */
export function nest(values: ArrayLike<number>, shape: readonly number[], offset = 0): unknown {
  if (shape.length <= 1) return Array.from({ length: shape[0] ?? 1 }, (_, i) => values[offset + i]);
  const stride = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(values, shape.slice(1), offset + i * stride));
}

/** Flattens nested number arrays row-major into `out`; false when a leaf is not a finite number. */
export function flattenInto(v: unknown, out: number[]): boolean {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return false;
    out.push(v);
    return true;
  }
  if (!Array.isArray(v)) return false;
  for (const e of v) if (!flattenInto(e, out)) return false;
  return true;
}

/** The output tensor to read: probabilities, scores, logits, or the only one. */
export function pickOutput(names: readonly string[]): string | undefined {
  for (const preferred of ['probabilities', 'scores', 'logits']) if (names.includes(preferred)) return preferred;
  return names.length === 1 ? names[0] : undefined;
}
