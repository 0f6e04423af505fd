/** @file Writes data/splits/<scenario>.json for every standard scenario (deterministic, seed 0). */
import { writeFileSync } from 'node:fs';
import { computeSplit, partDatasets, scenarios, splitPath } from '../src/datasets/scenarios.js';

for (const s of Object.values(scenarios)) {
  const split = computeSplit(s);
  const body = {
    scenario: s.name,
    dataset: s.dataset,
    ...(s.wholeParts ? { datasets: partDatasets(s) } : {}),
    seed: 0,
    stratified: true,
    sizes: s.sizes,
    ...split,
  };
  writeFileSync(splitPath(s.name), `${JSON.stringify(body)}\n`);
  process.stdout.write(`${splitPath(s.name)}: ${split.victim.length}/${split.pool.length}/${split.eval.length}\n`);
}
