/**
 * @file `heist probe` as a function: what a target says about itself and what it really answers,
 * and what finding out cost. It finds (or is told) the wire format with GET requests only, buys a
 * few uniform rows (purpose 'probe', recorded in OUT/transcript.jsonl like any paid answer) to check
 * the declared output kind, times every request, and optionally sends a burst of single-row
 * requests to see whether and how the target rate-limits (429, Retry-After). When no format fits,
 * the report carries a mapping-file skeleton to fill in. `log` receives one line per HTTP request
 * (method, URL, status, milliseconds; headers, and so API keys, are never logged).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { HeistError, isHeistError } from '../core/errors.js';
import type { ModelInfo, OutputKind } from '../core/prediction.js';
import { createRng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import { type Clock, systemClock } from '../core/types.js';
import { probeInfo } from '../oracle/probe.js';
import { createQueryClient } from '../query/client.js';
import { clientSettings, oracleSettings, targetSettingsFields } from './target-settings.js';
import { redactHeaders } from './run-parts.js';
import { resolveTarget } from './target.js';

export const probeConfigSchema = z
  .object({
    target: z.string().regex(/^https?:\/\//i, 'probe needs an http(s) URL'),
    out: z.string().min(1),
    /** Uniform rows bought to check the answers (purpose 'probe'). */
    rows: z.number().int().min(1).max(256).default(4),
    /** Single-row requests sent at once to observe rate limiting (0 = none). */
    burst: z.number().int().min(0).max(256).default(0),
    seed: z.number().int().nonnegative().default(0),
    headers: z.record(z.string(), z.string()).optional(),
    ...targetSettingsFields,
  })
  .strict();

export interface ProbeRequest {
  readonly method: string;
  readonly url: string;
  readonly status: number | 'network-error';
  readonly ms: number;
  readonly retryAfter?: string;
}

export interface ProbeRunReport {
  readonly schema: 'heist.probe/v1';
  readonly target: string;
  readonly config: Record<string, unknown>;
  readonly format?: string;
  readonly info?: ModelInfo;
  readonly observedOutput?: OutputKind;
  readonly mismatches: readonly string[];
  readonly requests: readonly ProbeRequest[];
  readonly latencyMs?: { readonly median: number; readonly max: number };
  readonly rowsPaid: number;
  readonly rateLimit?: { readonly burst: number; readonly refused: number; readonly retryAfter: readonly string[] };
  /** A heist.mapping/v1 skeleton, when no registered format fits the target. */
  readonly suggestedMapping?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly wallMs: number;
}

export interface ProbeHooks {
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  /** One line per HTTP request, for --verbose. */
  readonly log?: (line: string) => void;
}

function skeleton(url: string): string {
  return [
    '# heist.mapping/v1 skeleton for this target: fill in the TODOs, then pass it as --format FILE.yaml',
    'format: heist.mapping/v1',
    `url: ${url}`,
    'method: POST',
    'headers:',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the mapping file's own ${ENV} syntax, written literally
    '  # x-api-key: ${MY_API_KEY}       # read from the environment when the run starts',
    'request:',
    '  body:',
    '    instances: $rows              # TODO: where the API takes the batch',
    'response:',
    '  items: predictions              # TODO: the path to the list of per-row answers',
    '  probabilities: probabilities    # TODO: or label, scores (logits), topk',
    '# batch: 32                        # rows per request, if the API caps them',
    "# rate: 10/s                       # the API's published rate limit",
    'model:',
    '  name: model',
    '  inputShape: [TODO]',
    '  classes: TODO',
    '  domain: { min: 0, max: 1 }',
    '',
  ].join('\n');
}

const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function runProbe(input: unknown, hooks: ProbeHooks = {}): Promise<ProbeRunReport> {
  const parsed = probeConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `invalid probe settings at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const c = parsed.data;
  const clock = hooks.clock ?? systemClock;
  const t0 = clock.now();
  const outDir = resolve(c.out);
  mkdirSync(outDir, { recursive: true });
  const requests: ProbeRequest[] = [];
  const inner = hooks.fetch ?? fetch;
  const timed: typeof fetch = async (url, init) => {
    const start = performance.now();
    const method = init?.method ?? 'GET';
    try {
      const res = await inner(url, init);
      const r: ProbeRequest = {
        method,
        url: String(url),
        status: res.status,
        ms: performance.now() - start,
        ...(res.headers.get('retry-after') ? { retryAfter: res.headers.get('retry-after')! } : {}),
      };
      requests.push(r);
      hooks.log?.(`${r.method} ${r.url} -> ${r.status} (${r.ms.toFixed(1)} ms)`);
      return res;
    } catch (e) {
      requests.push({ method, url: String(url), status: 'network-error', ms: performance.now() - start });
      hooks.log?.(`${method} ${String(url)} -> network error (${(e as Error).message})`);
      throw e;
    }
  };
  const { headers, ...rest } = c;
  const config = { ...rest, ...(headers ? { headers: redactHeaders(headers) } : {}) };
  const base = { schema: 'heist.probe/v1' as const, target: c.target, config };
  const finish = (r: ProbeRunReport): ProbeRunReport => {
    writeFileSync(join(outDir, 'probe.json'), `${JSON.stringify(r, null, 2)}\n`);
    return r;
  };

  let target: Awaited<ReturnType<typeof resolveTarget>>;
  try {
    target = await resolveTarget(c.target, { headers: c.headers, fetch: timed, ...oracleSettings(c) });
  } catch (e) {
    if (!isHeistError(e, 'HEIST_ERR_BAD_CONFIG') || c.format !== undefined) throw e;
    // No registered format fits: say what each saw, and hand over a mapping skeleton.
    return finish({
      ...base,
      mismatches: [],
      requests,
      rowsPaid: 0,
      suggestedMapping: skeleton(c.target),
      error: { code: e.code, message: e.message },
      wallMs: clock.now() - t0,
    });
  }
  const client = createQueryClient(target.oracle, {
    ...clientSettings(c),
    budget: { attack: 0, probe: c.rows + c.burst },
    transcriptPath: join(outDir, 'transcript.jsonl'),
    overwrite: true,
    clock,
    concurrency: Math.max(1, c.burst),
    // One row a request, no retries: each request's latency and status is what the target did.
    maxCallRows: 1,
    retry: { retries: 0 },
  });
  try {
    const report = await probeInfo(client, { rng: createRng(c.seed).fork('probe'), rows: c.rows });
    let rateLimit: ProbeRunReport['rateLimit'];
    if (c.burst > 0) {
      const before = requests.length;
      const info = target.oracle.info;
      const d = info.inputShape.reduce((a, b) => a * b, 1);
      const rng = createRng(c.seed).fork('burst');
      const rows: Tensor = {
        data: Float32Array.from({ length: c.burst * d }, () => rng.uniform(info.domain.min, info.domain.max)),
        shape: [c.burst, ...info.inputShape],
      };
      // One call of single-row requests, all in flight at once; the answered ones are recorded and counted.
      await client.query(rows, { purpose: 'probe' }).catch((e: unknown) => {
        if (!isHeistError(e, 'HEIST_ERR_RATE_LIMITED') && !isHeistError(e, 'HEIST_ERR_UPSTREAM')) throw e;
      });
      const burst = requests.slice(before);
      rateLimit = {
        burst: c.burst,
        refused: burst.filter((r) => r.status === 429).length,
        retryAfter: burst.flatMap((r) => (r.retryAfter ? [r.retryAfter] : [])),
      };
    }
    const paid = requests.filter((r) => r.method !== 'GET');
    return finish({
      ...base,
      format: target.format,
      info: target.oracle.info,
      observedOutput: report.observed,
      mismatches: report.mismatches,
      requests,
      latencyMs:
        paid.length > 0
          ? { median: median(paid.map((r) => r.ms)), max: Math.max(...paid.map((r) => r.ms)) }
          : undefined,
      rowsPaid: client.spentByPurpose.probe,
      ...(rateLimit ? { rateLimit } : {}),
      wallMs: clock.now() - t0,
    });
  } finally {
    await client.close();
  }
}
