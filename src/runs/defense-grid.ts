/**
 * @file The defense grid of `heist bench defenses`: a YAML or JSON file (schema tag
 * `heist.defense-grid/v1`) listing named defense configurations, each a stage list as `heist serve`
 * takes it. Parsed and checked once (zod, then every stage built from the registry and the stage
 * order checked), so a bad grid fails before any cell runs, with HEIST_ERR_BAD_CONFIG naming the
 * file and the key. The undefended baseline `none` is always the first configuration.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { systemClock, silentLogger } from '../core/types.js';
import { repoRoot } from '../datasets/paths.js';
import { checkOrder, createDefenses, type DefenseSpec } from '../defenses/index.js';

export const DEFENSE_GRID_SCHEMA = 'heist.defense-grid/v1';
/** The committed default grid. */
export const defaultGridPath = join(repoRoot, 'bench/defense-grid.yaml');
/** The undefended baseline's name. */
export const BASELINE = 'none';
/** A fixed secret for keyed stages (gaussian-noise, watermark, ...): the bench is reproducible, not a deployment. */
export const BENCH_SECRET = Buffer.from('heist-bench-defenses-secret-v1');

export interface GridConfig {
  /** Lower-case letters and digits, words joined by '-' or '.' (no '_'): it names the cell files. */
  readonly name: string;
  readonly defenses: readonly DefenseSpec[];
}

export interface DefenseGrid {
  readonly schema: typeof DEFENSE_GRID_SCHEMA;
  /** `none` first, then the file's configurations in file order. */
  readonly configs: readonly GridConfig[];
}

const NAME = /^[a-z0-9]+([.-][a-z0-9]+)*$/;

const gridSchema = z
  .object({
    schema: z.literal(DEFENSE_GRID_SCHEMA),
    configs: z
      .array(
        z
          .object({
            name: z.string().regex(NAME, "lower-case letters and digits in words joined by '-' or '.'"),
            defenses: z
              .array(z.object({ name: z.string().min(1), options: z.unknown().optional() }).strict())
              .default([]),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

const bad = (source: string, key: string, message: string): HeistError =>
  new HeistError('HEIST_ERR_BAD_CONFIG', `${source}: ${key}: ${message}`);

/** Validates a parsed grid document; `source` (a file name) prefixes every error. */
export function parseDefenseGrid(input: unknown, source: string): DefenseGrid {
  const r = gridSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw bad(source, issue?.path.map(String).join('.') || '(root)', issue?.message ?? 'invalid grid');
  }
  const seen = new Set<string>();
  const configs: GridConfig[] = [];
  for (const [i, c] of r.data.configs.entries()) {
    if (seen.has(c.name)) throw bad(source, `configs.${i}.name`, `duplicate configuration name "${c.name}"`);
    seen.add(c.name);
    if (c.name === BASELINE && c.defenses.length > 0)
      throw bad(source, `configs.${i}.defenses`, `"${BASELINE}" is the undefended baseline and has no defenses`);
    checkStages(c.defenses, source, `configs.${i}`);
    configs.push({ name: c.name, defenses: c.defenses });
  }
  const baseline = configs.find((c) => c.name === BASELINE) ?? { name: BASELINE, defenses: [] };
  return { schema: DEFENSE_GRID_SCHEMA, configs: [baseline, ...configs.filter((c) => c.name !== BASELINE)] };
}

/** Builds each stage once (names and options checked by the registry) and checks their order. */
function checkStages(specs: readonly DefenseSpec[], source: string, at: string): void {
  for (const [j, spec] of specs.entries()) {
    try {
      for (const s of createDefenses([spec], benchDefenseDeps())) void s.close?.();
    } catch (e) {
      if (e instanceof HeistError) throw bad(source, `${at}.defenses.${j}`, e.message);
      throw e;
    }
  }
  try {
    const stages = createDefenses(specs, benchDefenseDeps());
    checkOrder(stages);
    for (const s of stages) void s.close?.();
  } catch (e) {
    if (e instanceof HeistError) throw bad(source, `${at}.defenses`, e.message);
    throw e;
  }
}

/** What every bench stage is built with. */
export function benchDefenseDeps(): { clock: typeof systemClock; log: typeof silentLogger; secret: Buffer } {
  return { clock: systemClock, log: silentLogger, secret: BENCH_SECRET };
}

/** Reads and validates a grid file (YAML or JSON: JSON is YAML). */
export function readDefenseGrid(path: string): DefenseGrid {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `cannot read defense grid ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw bad(path, '(root)', `not YAML or JSON: ${(e as Error).message}`);
  }
  return parseDefenseGrid(doc, path);
}
