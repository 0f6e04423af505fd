/**
 * @file The query audit log as a record-phase stage: every row a client sent is written, with what
 * was served or the refusal code, before the gateway replies. If the store fails, the entries go to
 * a JSON-lines spill file beside it, so no audit row is dropped; the failure is logged.
 * @see M. Juuti et al., "PRADA: Protecting against DNN Model Stealing Attacks", EuroS&P 2019, arXiv:1805.02628 (per-client query logs as the basis of detection).
 */
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { hashRow } from '../core/hash.js';
import { row, rowCount } from '../core/tensor.js';
import type { AuditEntry, AuditStore } from '../store/types.js';
import { type Defense, type DefenseDeps, type DefenseEntry, isDefenseRejection } from './types.js';

export interface AuditLogOptions {
  readonly store: AuditStore;
  /** Where entries go when the store fails (JSON lines). */
  readonly spillPath: string;
}

export function auditLog(options: AuditLogOptions, deps: DefenseDeps): Defense {
  return {
    name: 'audit-log',
    record(ctx, served) {
      const n = rowCount(ctx.inputs);
      const refused = isDefenseRejection(served);
      const k = !refused && served.scores ? served.scores.shape[1] : 0;
      const flags = ctx.flags.map((f) => `${f.stage}:${f.reason}`);
      const entries: AuditEntry[] = [];
      for (let i = 0; i < n; i++) {
        const input = row(ctx.inputs, i);
        entries.push({
          at: ctx.at,
          requestId: ctx.requestId,
          clientId: ctx.client.id,
          model: ctx.model.name,
          rowIndex: i,
          inputHash: hashRow(input),
          input,
          outcome: refused ? served.code : 'served',
          label: refused ? undefined : served.labels[i],
          scores: !refused && served.scores ? served.scores.data.subarray(i * k, (i + 1) * k) : undefined,
          flags,
        });
      }
      try {
        options.store.append(entries);
      } catch (err) {
        deps.log.error('audit store failed; spilling entries to file', {
          err: String(err),
          spill: options.spillPath,
          rows: n,
        });
        const lines = entries.map((e) =>
          JSON.stringify({ ...e, input: Array.from(e.input), scores: e.scores ? Array.from(e.scores) : undefined }),
        );
        appendFileSync(options.spillPath, `${lines.join('\n')}\n`);
      }
    },
  };
}

export const auditLogEntry: DefenseEntry<Record<string, never>> = {
  name: 'audit-log',
  summary:
    'record every row answered or refused, with what was served, before the reply (spills to a file if the store fails)',
  paper: 'M. Juuti et al., "PRADA: Protecting against DNN Model Stealing Attacks", EuroS&P 2019, arXiv:1805.02628',
  options: z.object({}).strict(),
  phases: ['record'],
  changesLabels: false,
  create: (_options, deps) => {
    if (!deps.audit)
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        'the audit-log stage needs an audit store: pass --audit sqlite://path/to/audit.db',
      );
    return auditLog(deps.audit, deps);
  },
};
