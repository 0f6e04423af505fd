/**
 * @file `heist steal` as a function: resolve the target, build the paid query client (budget,
 * cache, durable transcript), buy evaluation labels, run the steal loop, export the substitute as
 * ONNX, and write run.json and report.html. The CLI only parses flags and picks the reporter.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { type Clock, systemClock } from '../core/types.js';
import { planSteal } from '../attacks/plan.js';
import { type RoundResult, steal } from '../attacks/steal.js';
import { classifyAttack } from '../eval/attack-class.js';
import { buyEvaluationLabels } from '../eval/evaluate.js';
import type { Oracle } from '../oracle/types.js';
import { createQueryClient } from '../query/client.js';
import { createSurrogate } from '../surrogates/index.js';
import type { Surrogate } from '../surrogates/types.js';
import { networkToOnnx } from '../backends/onnx-writer.js';
import { checkTrainSettings, warmUpTraining } from '../backends/train-engines.js';
import { type RoundRecord, type RunRecord, RUN_SCHEMA } from '../report/run-record.js';
import type { Reporter } from '../report/types.js';
import { parseSchedule, scheduleCheckpoints, scheduleText } from '../attacks/schedule.js';
import { recipes } from '../recipes/index.js';
import { scenarios } from '../datasets/scenarios.js';
import { resolveEval, resolvePool } from './data-sources.js';
import { type StealConfig, parseStealConfig } from './steal-config.js';
import { redactHeaders, runId, targetRecord, withFileReporters } from './run-parts.js';
import { type Confirm, answersLikeVictim, costSummary, overlappingRows } from './cost-summary.js';
import { clientSettings, oracleSettings } from './target-settings.js';
import { onThisMachine, resolveTarget } from './target.js';
import { heistVersion } from './version.js';

export interface StealRunHooks {
  /** Live reporters (e.g. terminal); run.json and report.html are always written. */
  readonly reporters?: readonly Reporter[];
  readonly clock?: Clock;
  /** Override fetch (tests route HTTP through fastify inject). */
  readonly fetch?: typeof fetch;
  /** Called with what the run will buy, after every check and before anything is paid; reject to stop. */
  readonly confirm?: Confirm;
  /** Attack this oracle instead of resolving config.target (library use: an in-process, defended model); config.target is then only a label. */
  readonly oracle?: Oracle;
  /**
   * Called with the final substitute (a live, differentiable model) before it is disposed: library
   * use, e.g. crafting transfer attacks in-process (bench/jbda.ts).
   */
  readonly onSubstitute?: (substitute: Surrogate) => Promise<void> | void;
}

const CONFIG_FILE = 'steal-config.json';
const TRANSCRIPT_FILE = 'transcript.jsonl';
const SUBSTITUTE_FILE = 'substitute.onnx';

/** Settings that must match for --resume (out and resume themselves may differ). */
function resumeKey(c: StealConfig): string {
  const { resume: _r, out: _o, concurrency: _c, headers: _h, rate: _rate, maxBatch: _m, timeoutMs: _t, ...rest } = c;
  return JSON.stringify(rest);
}

/** The settings as saved beside the run: header values (API keys) are never written to disk. */
/**
 * The steal's parts: what the config sets explicitly, else what its recipe (default `heist`) sets,
 * else (undefined) the policy defaults of planSteal. Strategy options follow their strategy: a
 * recipe's apply only to the recipe's own strategy, and options given explicitly override them.
 */
function withRecipe(c: StealConfig) {
  const recipe = c.recipe ?? 'heist';
  const r = recipes.create(recipe, c.recipeOptions ?? {}, undefined);
  if (c.checkpoints && c.schedule)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', 'give checkpoints or a schedule, not both');
  const schedule = c.schedule ? parseSchedule(c.schedule) : c.checkpoints ? undefined : r.schedule;
  const ownStrategy = c.strategy === undefined || c.strategy === r.strategy;
  return {
    recipe,
    schedule,
    checkpoints: c.checkpoints ?? (schedule ? scheduleCheckpoints(schedule, c.budget) : undefined),
    strategy: c.strategy ?? r.strategy,
    strategyOptions: ownStrategy ? { ...r.strategyOptions, ...c.strategyOptions } : c.strategyOptions,
    arch: c.arch ?? r.arch,
    ensemble: c.ensemble ?? r.ensemble,
    labels: c.labels ?? r.labels,
    epochs: c.epochs ?? r.epochs,
    batchSize: c.batchSize ?? r.batchSize,
    learningRate: c.learningRate ?? r.learningRate,
    shiftAugment: c.shiftAugment ?? r.shiftAugment,
    temperature: c.temperature ?? r.temperature,
    labelSmoothing: c.labelSmoothing ?? r.labelSmoothing,
    warmStart: c.warmStart ?? r.warmStart,
  };
}

function savedConfig(c: StealConfig): StealConfig {
  return { ...c, headers: redactHeaders(c.headers) };
}

function checkResume(c: StealConfig, outDir: string): void {
  const saved = join(outDir, CONFIG_FILE);
  const transcript = join(outDir, TRANSCRIPT_FILE);
  if (c.resume) {
    if (!existsSync(saved))
      throw new HeistError('HEIST_ERR_RESUME', `--resume: ${saved} does not exist; nothing to resume`);
    const before = JSON.parse(readFileSync(saved, 'utf8')) as StealConfig;
    if (resumeKey(before) !== resumeKey(c)) {
      throw new HeistError(
        'HEIST_ERR_RESUME',
        `--resume: the settings differ from the interrupted run's (${saved}); resume with the same flags`,
      );
    }
  } else if (existsSync(transcript)) {
    throw new HeistError(
      'HEIST_ERR_RESUME',
      `${transcript} exists: pass --resume to continue that run, or choose another --out`,
    );
  }
}

/** A round of the steal loop as the run record and the live reporters see it. */
function roundRecord(r: RoundResult): RoundRecord {
  const { round, queriesUsed, labeledRows, metrics, fitMs, wallMs } = r;
  return { round, queriesUsed, labeledRows, metrics, fitMs, wallMs };
}

export async function runSteal(input: unknown, hooks: StealRunHooks = {}): Promise<RunRecord> {
  const config = parseStealConfig(input);
  const clock = hooks.clock ?? systemClock;
  const startedAt = new Date(clock.now());
  const outDir = resolve(config.out);
  mkdirSync(outDir, { recursive: true });
  checkResume(config, outDir);

  const target = hooks.oracle
    ? { oracle: hooks.oracle, kind: 'file' as const, location: config.target }
    : await resolveTarget(config.target, { headers: config.headers, fetch: hooks.fetch, ...oracleSettings(config) });
  const info = target.oracle.info;
  const evalName = config.eval ?? (config.pool && config.pool in scenarios ? config.pool : undefined);
  const evalData = evalName ? resolveEval(evalName) : undefined;
  const rng = createRng(config.seed);
  // The engine and its HEIST_TRAIN_THREADS / HEIST_TRAIN_WORKERS, refused before the first paid
  // query; then the engine starts its worker threads while the queries are bought.
  checkTrainSettings(config.engine);
  warmUpTraining(config.engine);
  const pool = config.pool ? resolvePool(config.pool) : undefined;
  const parts = withRecipe(config);
  const plan = planSteal(
    {
      budget: config.budget,
      checkpoints: parts.checkpoints,
      strategy: parts.strategy,
      strategyOptions: parts.strategyOptions,
      pool,
      arch: parts.arch,
      hidden: config.hidden,
      ensemble: parts.ensemble,
      labels: parts.labels,
      fit: {
        epochs: parts.epochs,
        batchSize: parts.batchSize,
        learningRate: parts.learningRate,
        shiftAugment: parts.shiftAugment,
        temperature: parts.temperature,
        labelSmoothing: parts.labelSmoothing,
      },
      targetFidelity: config.targetFidelity,
      warmStart: parts.warmStart,
      evaluation: evalData !== undefined,
    },
    info,
    rng,
  ); // checked before the first paid query, evaluation labels included
  const warnings: string[] = [];
  const overlap = pool && evalData ? overlappingRows(pool, evalData) : 0;
  if (overlap > 0)
    warnings.push(
      `${overlap} of the ${evalData!.x.shape[0]} evaluation rows are also in the attack pool: fidelity on them is not held out`,
    );
  if (!evalData) warnings.push('no evaluation set: fidelity will not be measured (pass --eval <scenario|dataset>)');
  const pricePerQuery =
    config.pricePerQuery ?? (target.oracle.pricePer1k !== undefined ? target.oracle.pricePer1k / 1000 : undefined);
  await hooks.confirm?.(
    costSummary({
      kind: 'steal',
      target: config.target,
      attackQueries: plan.budget,
      evalQueries: evalData ? evalData.x.shape[0] : 0,
      pricePerQuery,
      warnings,
    }),
  );
  writeFileSync(join(outDir, CONFIG_FILE), `${JSON.stringify(savedConfig(config), null, 2)}\n`);
  const client = await createQueryClient(target.oracle, {
    budget: { attack: plan.budget, eval: evalData ? evalData.x.shape[0] : 0 },
    transcriptPath: join(outDir, TRANSCRIPT_FILE),
    resume: config.resume,
    concurrency: config.concurrency,
    ...clientSettings(config),
  });
  try {
    const reporters = withFileReporters(hooks.reporters);
    const id = runId('steal', startedAt, config.seed);
    const recordConfig = {
      ...savedConfig(config),
      recipe: parts.recipe,
      ...(parts.schedule ? { schedule: scheduleText(parts.schedule) } : {}),
      strategy: plan.strategyName,
      arch: plan.arch,
      ...(plan.archOptions.members !== undefined ? { ensemble: plan.archOptions.members } : {}),
      labels: plan.labels,
      eval: evalName,
      checkpoints: plan.checkpoints,
      fit: plan.fit,
      ...(target.format !== undefined ? { format: target.format } : {}),
      // The price the target publishes (a mapping file's pricePer1k) when --price gives none.
      ...(pricePerQuery !== undefined ? { pricePerQuery } : {}),
    };
    for (const r of reporters) await r.onStart?.({ id, kind: 'steal', config: recordConfig });
    // A remote target's evaluation labels are bought while the first substitute trains (steal.ts),
    // so the wait for them hides behind the fit. A target on this machine would answer them with the
    // CPUs the fit needs, which made its fit slower than the buy it hid (docs/architecture.md).
    const buyEval = evalData ? () => buyEvaluationLabels(client, evalData) : undefined;
    const evaluation = buyEval && onThisMachine(target) ? await buyEval() : buyEval;
    const result = await steal(
      plan,
      {
        client,
        info,
        createSurrogate: (arch, options, r) => createSurrogate(arch, { ...options, engine: config.engine }, r),
        ...(evaluation ? { evaluation } : {}),
        clock,
        onRound: (r) => {
          for (const rep of reporters) void rep.onRound?.(roundRecord(r));
        },
      },
      rng,
    );
    const spec = result.substitute.toSpec();
    writeFileSync(
      join(outDir, SUBSTITUTE_FILE),
      networkToOnnx(spec, {
        name: `substitute-of-${info.name}`,
        domain: info.domain,
        classNames: info.classNames ? [...info.classNames] : undefined,
      }),
    );
    try {
      await hooks.onSubstitute?.(result.substitute);
    } finally {
      result.substitute.dispose();
    }
    const last = result.rounds[result.rounds.length - 1];
    const finishedAt = new Date(clock.now());
    const used = client.spentByPurpose.attack;
    const evalSpent = client.spentByPurpose.eval;
    const scenario = evalName && evalName in scenarios ? scenarios[evalName] : undefined;
    // The scenario's reference curve is the right comparison only for the scenario's own victim.
    const isVictim =
      scenario !== undefined &&
      result.evaluation !== undefined &&
      (await answersLikeVictim(scenario.name, result.evaluation));
    // ... and only for an attacker who buys from a natural pool, as the reference attacks do.
    const reference = isVictim && pool ? scenario.reference[plan.reference] : undefined;
    if (scenario && !isVictim && Object.keys(scenario.reference).length > 0) {
      warnings.push(
        `no reference curve: the target is not the shipped ${scenario.name} victim (its evaluation labels differ)`,
      );
    } else if (isVictim && !pool && Object.keys(scenario.reference).length > 0) {
      warnings.push('no reference curve: the reference attacks buy from a natural pool, and this run had none');
    }
    const record: RunRecord = {
      schema: RUN_SCHEMA,
      id,
      kind: 'steal',
      heistVersion,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      wallMs: finishedAt.getTime() - startedAt.getTime(),
      seed: config.seed,
      config: recordConfig,
      target: targetRecord(target, info),
      queries: { budget: plan.budget, used, cached: client.cached, eval: evalSpent, total: used + evalSpent },
      rounds: result.rounds.map(roundRecord),
      metrics: { ...last.metrics },
      artifacts: { substitute: SUBSTITUTE_FILE, transcript: TRANSCRIPT_FILE, report: 'report.html' },
      references: reference
        ? [
            {
              name: `ART 1.20.1 ${plan.reference === 'knockoff-random-probs' ? 'Knockoff random (probabilities)' : 'Copycat CNN (labels)'}`,
              metric: 'fidelity',
              points: Object.entries(reference).map(([q, v]) => ({ queries: Number(q), value: v })),
            },
          ]
        : undefined,
      notes: [`stopped by ${result.stoppedBy}`, ...warnings],
    };
    const attackClass = classifyAttack(plan.labels, last.metrics.fidelity);
    if (attackClass) record.attackClass = { ...attackClass, typicalFidelity: [...attackClass.typicalFidelity] };
    for (const r of reporters) await r.onEnd(record, outDir);
    return record;
  } finally {
    await client.close();
    if (!hooks.oracle) await target.oracle.close?.();
  }
}
