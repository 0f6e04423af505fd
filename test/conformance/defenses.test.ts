/**
 * @file Every registered defense stage through the defense conformance suite: every served vector
 * is a valid distribution (within the stage's declared rounding), the same input gets the same
 * answer (alone or in another batch), a stage that says it keeps labels keeps them, and each stage
 * uses only the powers of its phases: it implements exactly the phases it declares, never alters
 * the inputs or the model's own answer, and a stage without a transform leaves the answer as is.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Prediction } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { type Tensor, takeRows, tensor } from '../../src/core/tensor.js';
import { silentLogger } from '../../src/core/types.js';
import { createContext, createPipeline, defensePhases, defenses } from '../../src/defenses/index.js';
import { randomLinearModel } from '../../src/models/linear.js';

const deps = {
  clock: { now: () => 1_700_000_000_000, sleep: async () => {} },
  log: silentLogger,
  secret: Buffer.from('conformance-suite-secret'),
};
const model = randomLinearModel(createRng(3), 5, 4, { scale: 2 });
const classes = 4;

function rows(seed: number, n: number): Tensor {
  const rng = createRng(seed);
  return tensor(
    Float32Array.from({ length: n * 5 }, () => rng.next()),
    [n, 5],
  );
}

function copy(p: Prediction): unknown {
  return { kind: p.kind, labels: Array.from(p.labels), scores: p.scores ? Array.from(p.scores.data) : undefined };
}

for (const entry of defenses.entries()) {
  test(`defense ${entry.name} conforms`, async () => {
    const options = defenses.parseOptions(entry, entry.example ?? {});
    const stage = entry.create(options, deps);
    assert.equal(stage.name, entry.name);
    const implemented = defensePhases.filter((phase) => typeof stage[phase] === 'function');
    assert.deepEqual(implemented, [...entry.phases], `${entry.name} implements exactly its declared phases`);

    const pipeline = createPipeline([stage], { log: silentLogger });
    const raws: unknown[] = [];
    const serve = async (x: Tensor, id: string): Promise<Prediction> => {
      const ctx = createContext({
        requestId: id,
        model: model.info,
        inputs: x,
        at: deps.clock.now(),
        credentials: { apiKey: 'k', ip: '127.0.0.1' },
      });
      const before = Array.from(x.data);
      const out = await pipeline.run(ctx, async (t) => {
        const raw = model.predict(t) as Prediction;
        raws.push(copy(raw));
        return raw;
      });
      assert.deepEqual(Array.from(x.data), before, `${entry.name} altered the inputs`);
      assert.deepEqual(copy(ctx.raw!), raws[raws.length - 1], `${entry.name} altered the model's own answer`);
      if (!entry.phases.includes('transform'))
        assert.deepEqual(copy(out), raws[raws.length - 1], `${entry.name} has no transform but changed the answer`);
      if (!(entry.changesLabelsWith?.(options) ?? entry.changesLabels))
        assert.deepEqual(Array.from(out.labels), Array.from(ctx.raw!.labels), `${entry.name} changed a label`);
      return out;
    };

    const x = rows(1, 32);
    const a = await serve(x, 'r1');
    const tolerance = entry.massError?.(options, classes) ?? 1e-5;
    if (a.scores) {
      for (let i = 0; i < 32; i++) {
        const v = a.scores.data.subarray(i * classes, (i + 1) * classes);
        assert.ok(
          v.every((p) => Number.isFinite(p) && p >= 0 && p <= 1),
          `${entry.name}: row ${i} has a value outside [0, 1]`,
        );
        const sum = v.reduce((s, p) => s + p, 0);
        assert.ok(Math.abs(sum - 1) <= tolerance, `${entry.name}: row ${i} sums to ${sum}`);
      }
    }
    // The same input gets the same answer: again, and inside another batch.
    assert.deepEqual(copy(await serve(x, 'r2')), copy(a));
    const mixed = tensor(new Float32Array([...rows(2, 3).data, ...takeRows(x, [7]).data]), [4, 5]);
    const b = await serve(mixed, 'r3');
    assert.equal(b.labels[3], a.labels[7]);
    assert.deepEqual(
      b.scores ? Array.from(b.scores.data.subarray(3 * classes, 4 * classes)) : undefined,
      a.scores ? Array.from(a.scores.data.subarray(7 * classes, 8 * classes)) : undefined,
    );
    await pipeline.close();
  });
}
