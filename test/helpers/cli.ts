/** Runs `heist ...` (bin/heist.js) as a user would, in a child process; returns exit code, stdout and stderr. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../src/datasets/paths.js';

export function heist(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/heist.js'), ...args], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
