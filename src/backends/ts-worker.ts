/**
 * @file Starts a worker thread on a module of this repo. Node 20 workers do not inherit tsx's
 * loader (neither `node --import tsx` nor bin/heist.js's register() reaches them), so a .ts entry is
 * started through a two-line ES module that registers tsx and then imports it; a .js entry (a
 * compiled build) starts as it is.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** process.execArgv without `--import tsx` (which a worker would load again, to no effect). */
function execArgvWithoutTsx(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === '--import' || argv[i] === '--loader') && /^tsx(\/|$)/.test(argv[i + 1] ?? '')) i++;
    else if (!/^--(import|loader)=tsx(\/|$)/.test(argv[i])) out.push(argv[i]);
  }
  return out;
}

export function startWorker(entry: URL, options: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import { register } from ${JSON.stringify(tsx)};\nregister();\nawait import(${JSON.stringify(entry.href)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), {
    execArgv: execArgvWithoutTsx(),
    ...options,
  });
}
