/** @file The JSON reporter: validates the finished RunRecord and writes OUT/run.json (heist.run/v1). */
import { writeRunRecord } from '../run-record.js';
import { z } from 'zod';
import type { Reporter, ReporterEntry } from '../types.js';

/** Reporter that writes OUT/run.json at the end of a run; an invalid record throws HEIST_ERR_BAD_DATA. */
export function createJsonReporter(): Reporter {
  return {
    name: 'json',
    async onEnd(run, outDir) {
      await writeRunRecord(outDir, run);
    },
  };
}

export const json: ReporterEntry<Record<string, never>> = {
  name: 'json',
  summary: 'OUT/run.json, the heist.run/v1 record (validated before it is written)',
  options: z.object({}).strict(),
  create: () => createJsonReporter(),
};
