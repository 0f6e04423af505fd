/** @file probeInfo: declared vs observed output, paid as 'probe' rows. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearModel } from '../../test/query/fixtures.js';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { createQueryClient } from '../query/client.js';
import { localOracle } from './local.js';
import { probeInfo, requireOutput } from './probe.js';
import type { Oracle } from './types.js';

test('agreeing target: no mismatches, rows paid as probe', async () => {
  const c = createQueryClient(localOracle(linearModel()), { budget: 10 });
  const r = await probeInfo(c, { rng: createRng(1), rows: 3 });
  assert.deepEqual(r.mismatches, []);
  assert.equal(r.observed, 'probs');
  assert.deepEqual(c.spentByPurpose, { attack: 0, eval: 0, probe: 3 });
  assert.equal(c.remaining, 7);
  requireOutput(r, ['probs']);
});

test('a target that declares probs but answers labels is caught', async () => {
  const lying: Oracle = { ...localOracle(linearModel({ output: 'label' })), info: linearModel().info };
  const r = await probeInfo(lying, { rng: createRng(2) });
  assert.equal(r.observed, 'label');
  assert.equal(r.info.output, 'label');
  assert.equal(r.mismatches.length, 1);
  assert.throws(
    () => requireOutput(r, ['probs']),
    (e) => isHeistError(e, 'HEIST_ERR_REQUIREMENTS'),
  );
});
