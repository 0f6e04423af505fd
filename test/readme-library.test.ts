/**
 * @file The README's library snippet, run exactly as written: copied out of README.md into a file
 * inside the repository (so that `import ... from 'heist'` resolves to this package through its
 * `exports`), run with `node --import tsx` from the repository root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../src/datasets/paths.js';

test('the README library snippet steals the rounded digits-mlp victim in-process', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const m = /<!-- library-snippet:begin -->\n```ts\n([\s\S]*?)```\n<!-- library-snippet:end -->/.exec(readme);
  assert.ok(m, 'README.md has the library snippet between its markers');
  const dir = join(repoRoot, '.heist-cache');
  const file = join(dir, 'readme-snippet.mts');
  const out = join(repoRoot, 'runs/library-steal');
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, m[1]);
  rmSync(out, { recursive: true, force: true });
  try {
    const printed = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: repoRoot, encoding: 'utf8' });
    const got = /^fidelity (\d(?:\.\d+)?) after (\d+) queries$/m.exec(printed);
    assert.ok(got, `unexpected output: ${printed}`);
    assert.equal(Number(got[2]), 250);
    assert.ok(Number(got[1]) >= 0.9, `fidelity ${got[1]}`);
    assert.match(
      readme,
      new RegExp(`It prints \`fidelity ${got[1].replace('.', '\\.')} after 250 queries\``),
      'the README quotes what the snippet prints',
    );
  } finally {
    rmSync(file, { force: true });
    rmSync(out, { recursive: true, force: true });
  }
});
