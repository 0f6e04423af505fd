/**
 * @file Every registered recipe, with its default options and with its example: its parts name
 * registered strategies and architectures, its schedule gives increasing checkpoints that end at
 * the budget, and a real steal of the shipped digits-mlp victim (a local file, its scenario pool)
 * runs it, clears a fidelity floor, records the recipe and its schedule in run.json, and honours a part given explicitly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { POOL_LABEL_SMOOTHING, POOL_TEMPERATURE } from '../../src/attacks/plan.js';
import { scheduleCheckpoints } from '../../src/attacks/schedule.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { recipes } from '../../src/recipes/index.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { strategies } from '../../src/strategies/index.js';
import { surrogates } from '../../src/surrogates/index.js';

const BUDGET = 120;

async function stealWith(recipe: string, recipeOptions: unknown, extra: Record<string, unknown> = {}) {
  const out = mkdtempSync(join(tmpdir(), 'heist-recipe-'));
  try {
    return await runSteal({
      target: join(modelsDir, 'digits-mlp.onnx'),
      pool: 'digits-mlp',
      budget: BUDGET,
      recipe,
      recipeOptions,
      seed: 1,
      out,
      ...extra,
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

for (const entry of recipes.entries()) {
  test(`recipe ${entry.name} conforms`, async () => {
    assert.match(entry.name, /^heist$|^[a-z0-9-]+-[a-z]+-\d{4}$/, 'named <method>-<author>-<year>');
    if (entry.name !== 'heist') assert.ok(entry.paper, 'cites its paper');
    for (const options of [{}, ...(entry.example ? [entry.example] : [])]) {
      const parts = recipes.create(entry.name, options, undefined);
      if (parts.strategy) assert.ok(strategies.has(parts.strategy), parts.strategy);
      if (parts.arch) assert.ok(surrogates.has(parts.arch), parts.arch);
      if (parts.schedule) {
        const c = scheduleCheckpoints(parts.schedule, BUDGET);
        assert.equal(c[c.length - 1], BUDGET);
        for (let i = 1; i < c.length; i++) assert.ok(c[i] > c[i - 1], `increasing: ${c}`);
      }
      const rec = await stealWith(entry.name, options);
      const config = rec.config as Record<string, unknown>;
      assert.equal(config.recipe, entry.name);
      if (parts.strategy) assert.equal(config.strategy, parts.strategy);
      if (parts.labels) assert.equal(config.labels, parts.labels);
      const fit = config.fit as { temperature?: number; labelSmoothing?: number };
      if (parts.temperature !== undefined && config.labels === 'soft') assert.equal(fit.temperature, parts.temperature);
      if (parts.labelSmoothing !== undefined && config.labels === 'hard')
        assert.equal(fit.labelSmoothing, parts.labelSmoothing);
      if (parts.schedule)
        assert.deepEqual(
          rec.rounds.map((r) => r.queriesUsed),
          scheduleCheckpoints(parts.schedule, BUDGET),
        );
      assert.equal(rec.queries.used, BUDGET);
      // run.json names the attack class: labels only is task accuracy at best.
      assert.ok(rec.attackClass, 'run.json names the attack class');
      if (config.labels === 'hard') assert.notEqual(rec.attackClass.name, 'functionally-equivalent');
      // A data-free recipe ignores the pool: on this tabular victim it clears chance (0.1) well,
      // not the pool's 0.5 (its quality is tested on images, test/e2e/data-free.test.ts).
      const floor = parts.strategy === 'data-free' ? 0.25 : 0.5;
      assert.ok(rec.metrics.fidelity! > floor, `${entry.name}: fidelity ${rec.metrics.fidelity}`);
    }
  });
}

test('flags given explicitly override the recipe: labels, strategy, schedule', async () => {
  const rec = await stealWith('copycat-correia-2018', {}, { labels: 'soft', strategy: 'margin', schedule: 'fixed:40' });
  const config = rec.config as Record<string, unknown>;
  assert.equal(config.labels, 'soft');
  assert.equal(config.strategy, 'margin');
  assert.deepEqual(
    rec.rounds.map((r) => r.queriesUsed),
    [40, 80, 120],
  );
  await assert.rejects(stealWith('heist', {}, { schedule: 'weekly' }), /HEIST_ERR_BAD_CONFIG|schedule "weekly"/);
  await assert.rejects(
    stealWith('activethief-pal-2020', { selection: 'psychic' }),
    /recipe "activethief-pal-2020": bad option/,
  );
});

test('soft targets from a pool are distilled at the pool temperature unless a recipe or the config says otherwise', async () => {
  const temperature = async (recipe: string, extra: Record<string, unknown> = {}) =>
    ((await stealWith(recipe, {}, extra)).config as { fit: { temperature?: number } }).fit.temperature;
  assert.equal(await temperature('heist'), POOL_TEMPERATURE);
  assert.equal(await temperature('knockoff-orekondy-2019'), 1);
  assert.equal(await temperature('heist', { temperature: 2 }), 2);
  // Labels only: there is nothing to soften.
  assert.equal(await temperature('heist', { labels: 'hard' }), undefined);
  await assert.rejects(stealWith('heist', {}, { temperature: 0 }), /HEIST_ERR_BAD_CONFIG|temperature/);
});

test('labels from a pool are smoothed by the pool default unless a recipe or the config says otherwise', async () => {
  const smoothing = async (recipe: string, extra: Record<string, unknown> = {}) =>
    ((await stealWith(recipe, {}, extra)).config as { fit: { labelSmoothing?: number } }).fit.labelSmoothing;
  assert.equal(await smoothing('heist', { labels: 'hard' }), POOL_LABEL_SMOOTHING);
  assert.equal(await smoothing('copycat-correia-2018'), 0);
  assert.equal(await smoothing('heist', { labels: 'hard', labelSmoothing: 0.05 }), 0.05);
  // Probabilities: there are no bare labels to smooth.
  assert.equal(await smoothing('heist'), undefined);
  for (const bad of [1, -0.1])
    await assert.rejects(
      stealWith('heist', {}, { labels: 'hard', labelSmoothing: bad }),
      /HEIST_ERR_BAD_CONFIG|labelSmoothing/,
    );
});
