/** @file The package version, read once from package.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../datasets/paths.js';

export const heistVersion: string = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
).version;
