/** @file The options every audit store's registry entry takes (AuditStoreOptions), as a schema. */
import { z } from 'zod';

/** How long an append may wait to be durable when AuditStoreOptions.commitTimeoutMs is not given. */
export const DEFAULT_COMMIT_TIMEOUT_MS = 5000;
/** The log (chain) a store appends to when AuditStoreOptions.log is not given. */
export const DEFAULT_LOG = 'main';

export const storeOptionsSchema = z
  .object({
    location: z.string().min(1),
    log: z.string().min(1).max(200).optional(),
    commitTimeoutMs: z.number().int().positive().optional(),
    hmacKey: z.instanceof(Uint8Array).optional(),
    createIfMissing: z.boolean().optional(),
  })
  .strict();
