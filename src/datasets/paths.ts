/** @file Where the repo's shipped files live, resolved from this file (works from any cwd). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const dataDir = join(repoRoot, 'data');
export const modelsDir = join(repoRoot, 'models');
