/**
 * Resume after SIGKILL: a `heist steal` process is killed with SIGKILL once about half its budget
 * is bought, then restarted with --resume. It must spend exactly the budget in paid queries, buy no
 * input twice (checked at the gateway's audit log), and end with the same metrics as an
 * uninterrupted run with the same seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelsDir, repoRoot } from '../../src/datasets/paths.js';
import { startGateway } from '../../src/runs/serve-run.js';
import { readRunRecord } from '../../src/report/run-record.js';

const BUDGET = 449;
const heistBin = join(repoRoot, 'bin/heist.js');

function stealArgs(target: string, out: string, resume: boolean, extra: readonly string[]): string[] {
  // --epochs 150 makes each fit last long enough that the kill lands between purchases.
  const args = [
    heistBin,
    'steal',
    '--target',
    target,
    '--budget',
    String(BUDGET),
    '--pool',
    'digits-mlp',
    '--seed',
    '7',
    '--epochs',
    '150',
    '--out',
    out,
    ...extra,
  ];
  return resume ? [...args, '--resume'] : args;
}

function run(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

function attackRows(transcript: string): number {
  if (!existsSync(transcript)) return 0;
  return readFileSync(transcript, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"purpose":"attack"')).length;
}

/** Starts the steal and SIGKILLs it once the transcript holds at least half the budget. */
function runAndKillAtHalf(args: string[], transcript: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const timer = setInterval(() => {
      const n = attackRows(transcript);
      if (n >= BUDGET / 2) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve(n);
      }
    }, 5);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (signal !== 'SIGKILL') reject(new Error(`the run ended by itself (code ${code}) before it could be killed`));
    });
  });
}

/** Runs the check for a steal with these extra flags. */
async function killAndResume(extra: readonly string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'heist-resume-'));
  const model = join(modelsDir, 'digits-mlp.onnx');

  const reference = await startGateway({
    anonymous: true,
    models: [model],
    port: 0,
    audit: `sqlite://${join(dir, 'ref-audit.db')}`,
  });
  try {
    await run(stealArgs(`${reference.url}/v1/models/digits-mlp`, join(dir, 'ref'), false, extra));
  } finally {
    await reference.close();
  }

  const gw = await startGateway({
    anonymous: true,
    models: [model],
    port: 0,
    audit: `sqlite://${join(dir, 'audit.db')}`,
  });
  try {
    const target = `${gw.url}/v1/models/digits-mlp`;
    const out = join(dir, 'killed');
    const boughtBeforeKill = await runAndKillAtHalf(
      stealArgs(target, out, false, extra),
      join(out, 'transcript.jsonl'),
    );
    assert.ok(boughtBeforeKill >= BUDGET / 2 && boughtBeforeKill < BUDGET, `killed after ${boughtBeforeKill} rows`);
    assert.ok(!existsSync(join(out, 'run.json')), 'the killed run had not finished');
    await run(stealArgs(target, out, true, extra));

    const resumed = await readRunRecord(join(out, 'run.json'));
    const ref = await readRunRecord(join(dir, 'ref', 'run.json'));
    assert.equal(resumed.queries.used, BUDGET, 'paid attack queries equal the budget');
    assert.equal(resumed.queries.total, ref.queries.total);
    const audit = (await gw.auditStore!.query()).flatMap((r) => r.rows);
    assert.equal(audit.length, ref.queries.total, 'the gateway answered exactly budget + evaluation rows');
    assert.equal(new Set(audit.map((e) => e.inputHash)).size, audit.length, 'no input was bought twice');
    assert.deepEqual(resumed.metrics, ref.metrics, 'same final metrics as the uninterrupted run');
    assert.deepEqual(
      resumed.rounds.map((r) => [r.queriesUsed, r.metrics]),
      ref.rounds.map((r) => [r.queriesUsed, r.metrics]),
    );
  } finally {
    await gw.close();
  }
}

test('a steal killed with SIGKILL at half its budget resumes to the same result, buying nothing twice', () =>
  killAndResume([]));

// The data-free generator learns from every batch it buys (batchRows): the resumed run must
// re-propose each batch from the answers replayed out of the transcript.
test('a data-free steal, killed at half its budget, resumes to the same result too', () =>
  killAndResume(['--strategy', 'data-free']));
