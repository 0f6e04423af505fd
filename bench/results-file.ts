/**
 * @file The one way a benchmark writes its figures: bench/results/<name>.json, with the machine it
 * ran on (node, CPU, cores, time) so that numbers from shared, noisy machines can be told apart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../src/datasets/paths.js';

export function machineInfo(): { node: string; cpu: string; cores: number; at: string } {
  return {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    at: new Date().toISOString(),
  };
}

/** Writes `{ machine, ...body }` to bench/results/<name>.json and returns the path. */
export function writeBenchResult(name: string, body: object): string {
  const dir = join(repoRoot, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify({ machine: machineInfo(), ...body }, null, 2)}\n`);
  return path;
}
