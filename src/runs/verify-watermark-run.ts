/**
 * @file `heist verify watermark` as a function: read the audit log, keep the distinct inputs the
 * watermark stage selected (recomputed with the key, from each row's stored input and the model's
 * own top-1), ask the suspect model about them (paid queries, recorded in a transcript before they
 * are used), and report how many answers carry the watermark, with the binomial p-value under the
 * null that the suspect is independent of the key (src/defenses/watermark-verdict.ts). The key is
 * the deployment secret (the gateway's `secretEnv`), read from the environment variable named by
 * `keyEnv`; it is never printed or written.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { binomialInterval } from '../core/binomial.js';
import { HeistError } from '../core/errors.js';
import { tensor } from '../core/tensor.js';
import { type WatermarkMode, watermarkKey, watermarkMark } from '../defenses/watermark.js';
import { type WatermarkVerdict, suspectClasses, watermarkVerdict } from '../defenses/watermark-verdict.js';
import { createQueryClient } from '../query/client.js';
import { auditPages } from '../store/audit-pages.js';
import { openAuditStore } from '../store/index.js';
import { secretFromEnv } from './serve-run.js';
import { type TargetSettings, clientSettings, oracleSettings } from './target-settings.js';
import { resolveTarget } from './target.js';

export interface VerifyWatermarkOptions extends TargetSettings {
  /** The suspect model: an http(s) URL or a model file. */
  readonly suspect: string;
  /** The victim gateway's audit log URL (kept with `audit.inputs: true`, the default). */
  readonly audit: string;
  /** The environment variable holding the deployment secret the watermark key is derived from. */
  readonly keyEnv: string;
  /** The watermark stage's configured rate and mode. */
  readonly watermarkRate: number;
  readonly mode?: WatermarkMode;
  /** Only records of this served model / this client id (`key:<id>`) / this time range (epoch ms). */
  readonly model?: string;
  readonly client?: string;
  readonly since?: number;
  readonly until?: number;
  /** The most watermarked inputs to send the suspect (default: all of them). */
  readonly maxQueries?: number;
  /** Where the transcript of the suspect's answers goes (created). */
  readonly out: string;
  /** Request headers for an HTTP suspect (its wire format, pacing and batch cap: TargetSettings). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The p-value below which the suspect is reported identified; default 0.01. */
  readonly alpha?: number;
}

export interface VerifyWatermarkReport {
  readonly suspect: string;
  readonly audit: string;
  readonly mode: WatermarkMode;
  readonly rate: number;
  /** Distinct inputs in the log (with input bytes and the model's answer) that were scanned. */
  readonly scannedInputs: number;
  /** Of those, how many the key selects. */
  readonly watermarkedInputs: number;
  readonly selectionRate: number;
  /** The central 99% interval of Bin(scannedInputs, rate), in inputs: where watermarkedInputs should fall. */
  readonly selectionInterval99: readonly [number, number];
  /** Paid queries sent to the suspect. */
  readonly queriesSpent: number;
  readonly verdict: WatermarkVerdict;
  readonly alpha: number;
  /** log2 p-value below log2(alpha). */
  readonly identified: boolean;
  readonly transcript: string;
}

interface Marked {
  /** The watermarked inputs, in log order, and their watermark classes. */
  readonly rows: Float32Array[];
  readonly targets: number[];
  /** Distinct inputs scanned (with input bytes and the model's answer). */
  readonly scanned: number;
  readonly url: string;
}

/**
 * The log's distinct served inputs that the key selects, each with its watermark class (recomputed
 * from the input and the model's own top-1, with `classes` classes); only those are kept in memory.
 */
async function markedInputs(o: VerifyWatermarkOptions, key: Buffer, classes: number): Promise<Marked> {
  const store = await openAuditStore(o.audit, { createIfMissing: false });
  const seen = new Set<string>();
  const rows: Float32Array[] = [];
  const targets: number[] = [];
  let withoutInput = 0;
  try {
    const filter = {
      ...(o.model !== undefined ? { model: o.model } : {}),
      ...(o.client !== undefined ? { clientId: o.client } : {}),
      ...(o.since !== undefined ? { since: o.since } : {}),
      ...(o.until !== undefined ? { until: o.until } : {}),
    };
    for await (const page of auditPages(store, filter)) {
      for (const record of page) {
        if (record.outcome !== 'served') continue;
        for (const row of record.rows) {
          if (!row.raw) continue;
          if (!row.input) {
            withoutInput++;
            continue;
          }
          if (seen.has(row.inputHash)) continue;
          seen.add(row.inputHash);
          const k = row.raw.scores?.length ?? 0;
          if (k > 0 && k !== classes)
            throw new HeistError(
              'HEIST_ERR_BAD_CONFIG',
              `the suspect answers ${classes} classes; the logged model answered ${k}`,
            );
          const m = watermarkMark(key, row.input, o.watermarkRate, classes, row.raw.label);
          if (m.selected) {
            rows.push(row.input);
            targets.push(m.target);
          }
        }
      }
    }
  } finally {
    await store.close();
  }
  if (seen.size === 0 && withoutInput > 0)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      'the audit log keeps input hashes only (audit.inputs: false): watermark verification needs the inputs',
    );
  return { rows, targets, scanned: seen.size, url: store.url };
}

export async function verifyWatermarkRun(
  o: VerifyWatermarkOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<VerifyWatermarkReport> {
  if (!(o.watermarkRate > 0 && o.watermarkRate <= 0.5))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `--watermark-rate must be in (0, 0.5], got ${o.watermarkRate}`);
  const mode = o.mode ?? 'label';
  const alpha = o.alpha ?? 0.01;
  const key = watermarkKey(Buffer.from(secretFromEnv(env, o.keyEnv, '--key-env')));
  const target = await resolveTarget(o.suspect, { headers: o.headers, ...oracleSettings(o) });
  try {
    const info = target.oracle.info;
    if (mode === 'runner-up' && info.output === 'label')
      throw new HeistError(
        'HEIST_ERR_REQUIREMENTS',
        "runner-up watermarks are verified on the suspect's scores, and this suspect answers labels only (nothing was queried)",
      );
    // Selection needs the model's own top-1 and the class count: the first from the log, the second from the suspect (checked against the log).
    const classes = info.classes;
    const found = await markedInputs(o, key, classes);
    const selected = found.rows;
    const wanted = found.targets;
    const send = o.maxQueries !== undefined ? Math.min(o.maxQueries, selected.length) : selected.length;
    const outDir = resolve(o.out);
    mkdirSync(outDir, { recursive: true });
    const transcript = join(outDir, 'transcript.jsonl');
    let matched = 0;
    if (send > 0) {
      const d = selected[0].length;
      const x = new Float32Array(send * d);
      for (let i = 0; i < send; i++) {
        if (selected[i].length !== d)
          throw new HeistError(
            'HEIST_ERR_BAD_DATA',
            'the audit log holds inputs of different sizes: filter by --model',
          );
        x.set(selected[i], i * d);
      }
      const client = createQueryClient(target.oracle, {
        budget: { attack: 0, probe: send },
        transcriptPath: transcript,
        ...clientSettings(o),
      });
      try {
        const answer = await client.query(tensor(x, [send, d]), { purpose: 'probe' });
        const ranked = suspectClasses(answer, mode);
        for (let i = 0; i < send; i++) if (ranked[i] === wanted[i]) matched++;
      } finally {
        await client.close();
      }
    }
    const verdict = watermarkVerdict(matched, send, classes);
    return {
      suspect: target.location,
      audit: found.url,
      mode,
      rate: o.watermarkRate,
      scannedInputs: found.scanned,
      watermarkedInputs: selected.length,
      selectionRate: found.scanned > 0 ? selected.length / found.scanned : 0,
      selectionInterval99: binomialInterval(found.scanned, o.watermarkRate, 0.99),
      queriesSpent: send,
      verdict,
      alpha,
      identified: send > 0 && verdict.log2PValue < Math.log2(alpha),
      transcript,
    };
  } finally {
    await target.oracle.close?.();
  }
}
