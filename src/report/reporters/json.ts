/** @file The JSON reporter: validates the finished RunRecord and writes OUT/run.json (heist.run/v1). */
import { writeRunRecord } from '../run-record.js';
import type { Reporter } from '../types.js';

/** Reporter that writes OUT/run.json at the end of a run; an invalid record throws HEIST_ERR_BAD_DATA. */
export function createJsonReporter(): Reporter {
  return {
    name: 'json',
    async onEnd(run, outDir) {
      await writeRunRecord(outDir, run);
    },
  };
}
