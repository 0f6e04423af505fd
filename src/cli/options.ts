/** @file Flag parsers shared by the commands: each rejects bad values with a clear message. */
import { InvalidArgumentError } from 'commander';
import { type RateLimit, parseRate } from '../core/rate.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1)
    throw new InvalidArgumentError(`expected a number in (0, 1], got "${value}"`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

/** A share in [0, 1): label smoothing's epsilon. */
export function smoothingFraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1)
    throw new InvalidArgumentError(`expected a number in [0, 1), got "${value}"`);
  return n;
}

export function intList(value: string): number[] {
  return value.split(',').map((v) => positiveInt(v));
}

export function port(value: string): number {
  const n = nonNegativeInt(value);
  if (n > 65535) throw new InvalidArgumentError(`expected a port in 0..65535, got "${value}"`);
  return n;
}

export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got "${value}"`);
    return value as T;
  };
}

/** `--header "x-api-key: abc"` may repeat. */
export function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf(':');
  if (i <= 0) throw new InvalidArgumentError(`expected "Name: value", got "${value}"`);
  return { ...previous, [value.slice(0, i).trim().toLowerCase()]: value.slice(i + 1).trim() };
}

/** The slice of a Registry the CLI reads: choices and help text come from it, never from a list here. */
export interface NamedRegistry {
  readonly role: string;
  has(name: string): boolean;
  names(): string[];
  entries(): readonly { readonly name: string; readonly summary: string }[];
}

/** A flag parser accepting the registry's names (and `extra` names handled elsewhere). */
export function registryChoice(registry: NamedRegistry, extra: readonly string[] = []): (value: string) => string {
  return (value) => {
    if (!registry.has(value) && !extra.includes(value)) {
      throw new InvalidArgumentError(
        `unknown ${registry.role} "${value}"; expected one of ${[...registry.names(), ...extra].join(', ')}`,
      );
    }
    return value;
  };
}

/** "name (summary) | name (summary)" for a flag's help line. */
export function describeChoices(registry: NamedRegistry): string {
  return registry
    .entries()
    .map((e) => `${e.name} (${e.summary})`)
    .join(' | ');
}

/** `--strategy-option k=v` may repeat; v is read as JSON when it parses (numbers, booleans, lists), else as text. */
export function keyValue(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`expected "key=value", got "${value}"`);
  const raw = value.slice(i + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // plain text
  }
  return { ...previous, [value.slice(0, i).trim()]: parsed };
}

/** `--defense round={"decimals":2}` may repeat: a registry name, optionally `=` and its options as a JSON object. */
export function defenseSpec(
  registry: NamedRegistry,
): (value: string, previous: { name: string; options?: unknown }[]) => { name: string; options?: unknown }[] {
  return (value, previous) => {
    const i = value.indexOf('=');
    const name = i < 0 ? value : value.slice(0, i);
    registryChoice(registry)(name);
    if (i < 0) return [...previous, { name }];
    let options: unknown;
    try {
      options = JSON.parse(value.slice(i + 1));
    } catch {
      throw new InvalidArgumentError(
        `the options of ${registry.role} "${name}" must be a JSON object, got ${value.slice(i + 1)}`,
      );
    }
    return [...previous, { name, options }];
  };
}

/** `--rate "20/s, 1200 rows/min"` (see query/pacing.ts). */
export function rate(value: string): RateLimit {
  try {
    return parseRate(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** `--timeout 30` (seconds, may be fractional) -> milliseconds. */
export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number of seconds, got "${value}"`);
  return Math.round(n * 1000);
}

/** `--format`: a wire-format name, or a mapping file (*.yaml, *.yml, *.json). */
export function formatChoice(registry: NamedRegistry): (value: string) => string {
  return (value) => (/\.(ya?ml|json)$/i.test(value) ? value : registryChoice(registry)(value));
}

/** `--since 2025-01-31T12:00:00Z` or epoch milliseconds -> epoch ms. */
export function time(value: string): number {
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  // 8.64e15 ms is as far as a Date reaches.
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > 8.64e15)
    throw new InvalidArgumentError(`expected an ISO date-time or epoch ms, got "${value}"`);
  return ms;
}

/** A JSON value on the command line, e.g. `--options '{"delta":0.94}'`. */
export function jsonValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`expected JSON, got "${value}"`);
  }
}

/** The --engine flag's help, shared by steal and train. */
export function engineHelp(names: readonly string[]): string {
  return `training engine (default: onnxruntime, or HEIST_TRAIN_ENGINE): ${names.join(' | ')}. HEIST_TRAIN_WORKERS=N splits each mini-batch across N threads (onnxruntime; the same seed gives the same weights for the same N) and HEIST_TRAIN_THREADS=N gives each N intra-op threads; both default to 1. HEIST_TRAIN_NCHWC=0 keeps onnxruntime's CNN steps in NCHW instead of its faster blocked NCHWc layout`;
}
