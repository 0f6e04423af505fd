/**
 * @file Child process for the SIGKILL test: runs a seeded "attack" (batches of 4 rows proposed from
 * createRng(seed), sized by rows obtained) through a transcripted query client until killed.
 * argv: url transcriptPath seed budget resume(0|1)
 */
import { createRng } from '../../src/core/rng.js';
import { httpOracle } from '../../src/oracle/http.js';
import { createQueryClient } from '../../src/query/client.js';
import { rowsFrom } from './fixtures.js';

const [url, path, seed, budget, resume] = process.argv.slice(2);
const client = createQueryClient(await httpOracle(url), {
  budget: Number(budget),
  transcriptPath: path,
  resume: resume === '1',
  concurrency: 2,
  maxCallRows: 2,
});
const rng = createRng(Number(seed));
for (let got = 0; got < Number(budget); got += 4) await client.query(rowsFrom(rng.next, 4));
await client.close();
