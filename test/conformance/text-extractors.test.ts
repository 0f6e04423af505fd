/**
 * @file Every registered text extractor through its conformance suite, against the tiny language
 * model behind the real gateway: a budget below what the method needs is refused before any paid
 * request, and with enough budget it never spends more than its own count of needed requests.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { textExtractors } from '../../src/attacks/extract/llm/index.js';
import { isHeistError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { createCompletionsClient } from '../../src/query/completions-client.js';
import { type RunningGateway, startGateway } from '../../src/runs/serve-run.js';

let gw: RunningGateway;
before(async () => {
  gw = await startGateway({ anonymous: true, models: [], lms: [join(modelsDir, 'tiny-lm.json')], port: 0 });
});
after(() => gw.close());

for (const entry of textExtractors.entries()) {
  test(`text extractor ${entry.name} conforms: refusal before paying, budget kept`, async () => {
    const ex = textExtractors.create(entry.name, entry.example ?? {}, undefined);
    const need = ex.queriesNeeded();
    const short = createCompletionsClient(`${gw.url}/v1`, { maxQueries: need - 1 });
    await assert.rejects(ex.extract(short, createRng(1)), (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'));
    assert.equal(short.queries, 0, 'no paid request before the refusal');
    const client = createCompletionsClient(`${gw.url}/v1`, { maxQueries: need });
    const r = await ex.extract(client, createRng(1));
    assert.ok(client.queries <= need, `${client.queries} requests for ${need} needed`);
    assert.equal(r.queries, client.queries);
    client.close();
  });
}
