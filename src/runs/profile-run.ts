/**
 * @file `heist profile --config FILE`: the deployment's security profile, as Markdown the owner keeps
 * as documentation: what each route reveals, which defenses apply to each model and what a client
 * finally sees, who may ask and how much, and what happens when a store fails. It loads the models
 * (to read what they declare) but starts nothing and opens no store.
 */
import { inputSize } from '../core/prediction.js';
import { stageChangesLabels } from '../defenses/index.js';
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_TIMEOUTS,
} from '../gateway/config.js';
import { readKeyFile } from '../gateway/key-file.js';
import { withoutPassword } from '../store/url.js';
import type { GatewayFile } from './gateway-file.js';
import { readGatewayFile } from './gateway-file.js';
import { loadModels } from './serve-run.js';

const DEFAULTS = {
  maxBatch: DEFAULT_MAX_BATCH,
  bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
};
const TIMEOUTS = DEFAULT_TIMEOUTS;

function limitCells(
  t: { requests?: Record<string, number | undefined>; rows?: Record<string, number | undefined> } | undefined,
): string {
  if (!t) return 'unlimited';
  const parts: string[] = [];
  for (const unit of ['requests', 'rows'] as const)
    for (const w of ['second', 'minute', 'day'] as const) {
      const v = t[unit]?.[w];
      if (v !== undefined) parts.push(`${v} ${unit}/${w}`);
    }
  return parts.length > 0 ? parts.join(', ') : 'unlimited';
}

export async function profileText(file: GatewayFile, source: string): Promise<string> {
  const closers: (() => Promise<void> | void)[] = [];
  try {
    const models = await loadModels(file, closers);
    const s = file.server;
    const t = { ...TIMEOUTS, ...(s.timeouts ?? {}) };
    const metrics = s.metrics ?? 'admin';
    const admin = file.access.adminKeyEnv !== undefined;
    const out: string[] = [`# Security profile of ${source}`, ''];

    out.push('## Who may ask', '');
    out.push(
      file.access.keyFile
        ? `- API keys from \`${file.access.keyFile}\` (SHA-256 digests only; watched for changes), in \`x-api-key\` or \`Authorization: Bearer\`.`
        : '- No key file: no API keys are accepted.',
    );
    if (file.access.keyFile) {
      const byTier = new Map<string, number>();
      for (const k of readKeyFile(file.access.keyFile))
        if (k.revokedAt === undefined) byTier.set(k.tier, (byTier.get(k.tier) ?? 0) + 1);
      out.push(`- Active keys by tier: ${[...byTier].map(([tier, n]) => `${tier} ${n}`).join(', ') || 'none'}.`);
    }
    out.push(
      file.access.anonymousTier !== undefined
        ? `- **Anonymous access is on**: requests without a key are served as tier \`${file.access.anonymousTier}\`, identified (and limited) by IP${s.trustProxy ? ' taken from X-Forwarded-For (trustProxy)' : ''}.`
        : '- Anonymous access is off: a request without a valid key gets 401 before its body is read.',
      admin
        ? `- Admin routes (\`/admin/keys\`, \`/admin/health\`, \`/admin/audit/verify\`) need the admin key from \`$${file.access.adminKeyEnv}\`.`
        : '- No admin key: the admin routes do not exist.',
      '',
    );

    out.push('## Limits', '', '| tier | per key | shared by the tier |', '|---|---|---|');
    for (const [name, tier] of Object.entries(file.access.tiers))
      out.push(`| ${name} | ${limitCells(tier.perKey)} | ${limitCells(tier.shared)} |`);
    out.push(
      '',
      `Counters: \`${withoutPassword(file.limits.store)}\`, fixed windows (second, minute, UTC day); store unreachable: **fail-${file.limits.failMode}**${file.limits.failMode === 'closed' ? ' (503 HEIST_ERR_LIMITS_UNAVAILABLE)' : ' (admitted, logged as an error, counted in heist_limiter_decisions_total)'}; store timeout ${file.limits.timeoutMs} ms.`,
      '',
    );

    out.push('## Models: what a client sees', '');
    for (const m of models) {
      const info = m.predictor.info;
      const stages = m.defenses.map((d) => {
        return `\`${d.name}\`${d.options !== undefined ? ` ${JSON.stringify(d.options)}` : ''}${stageChangesLabels(d) ? ' (may change top-1 labels)' : ''}`;
      });
      const dropsScores = m.defenses.some((d) => d.name === 'label-only');
      const served =
        dropsScores || info.output === 'label'
          ? 'the top-1 label only'
          : info.output === 'logits'
            ? 'logits for every class'
            : 'a probability for every class';
      out.push(
        `### ${m.name}`,
        '',
        `- Input: ${info.inputShape.join('×')} (${inputSize(info)} values) in [${info.domain.min}, ${info.domain.max}]; out-of-domain values are **${m.inputDomain === 'reject' ? 'refused (400 HEIST_ERR_OUT_OF_DOMAIN)' : 'clipped and flagged'}**.`,
        `- The model answers ${info.output}; defenses in order: ${stages.length > 0 ? stages.join(' → ') : 'none'}.`,
        `- A client receives ${served}${stages.length > 0 ? ', after the defenses above' : ', exactly as the model computed it'}.`,
        `- \`GET /v1/models/${m.name}\` tells an authenticated client the input shape, the domain, ${info.classes} classes${info.classNames ? ' with their names' : ''} and the output kind.`,
        '',
      );
    }
    if (file.languageModels.length > 0)
      out.push(
        '### Language models',
        '',
        `- ${file.languageModels.length} model(s) on \`POST /v1/completions\` and \`/v1/chat/completions\`: top-k log-probabilities per token, and full logits when asked (\`x_heist_logits\`).`,
        '',
      );

    out.push('## Routes', '', '| route | who | reveals |', '|---|---|---|');
    out.push(
      '| `GET /healthz` | anyone | liveness only |',
      '| `GET /openapi.json` | anyone | the routes and body schemas; no model details |',
      `| \`GET /metrics\` | ${metrics === 'public' ? '**anyone**' : metrics === 'off' || !admin ? 'nobody (off)' : 'admin key'} | request, refusal, latency, audit and limiter counters |`,
      '| `GET /v1/models[/NAME]` | verified client | names, input shapes, domains, classes, output kinds |',
      '| `POST /v1/models/NAME/predict` | verified client | the served output above, per row |',
      ...(admin ? ['| `/admin/*` | admin key | keys (never secrets), health details, audit verification |'] : []),
      '',
    );

    out.push('## Audit log', '');
    if (file.audit) {
      out.push(
        `- \`${withoutPassword(file.audit.url)}\`, one hash-chained record per request, served or refused (${file.audit.inputs ? 'inputs kept' : 'input hashes only'}), durable before the reply leaves.`,
        `- Chain: ${file.audit.hmacKeyEnv ? `HMAC-SHA-256 keyed by \`$${file.audit.hmacKeyEnv}\`` : 'plain SHA-256 (anyone with write access can rebuild it; set hmacKeyEnv)'}; \`heist audit verify\` checks it.`,
        `- Store unavailable: **fail-${file.audit.failMode}**${file.audit.failMode === 'closed' ? ' (503 HEIST_ERR_AUDIT_UNAVAILABLE, nothing leaves unrecorded)' : ' (answers leave unrecorded; each is an error log line and counts in heist_audit_failures_total)'}; commit timeout ${file.audit.commitTimeoutMs} ms.`,
        '',
      );
    } else out.push('- **No audit log**: requests leave no record.', '');

    out.push(
      '## Input hardening',
      '',
      `- At most ${s.maxBatch ?? DEFAULTS.maxBatch} rows per request, ${s.bodyLimitBytes ?? DEFAULTS.bodyLimitBytes} body bytes, JSON nesting depth ${s.maxJsonDepth ?? DEFAULTS.maxJsonDepth} (checked while scanning, before parsing); UTF-8 only.`,
      `- Headers within ${t.headersMs} ms, the whole request within ${t.requestMs} ms (408), idle keep-alive closed after ${t.keepAliveMs} ms; at most ${s.maxConnections ?? DEFAULTS.maxConnections} connections.`,
      '- Keys in the URL are refused (400 HEIST_ERR_KEY_IN_URL); logs never carry query strings; CONNECT gets 405.',
      '',
    );
    return out.join('\n');
  } finally {
    for (const c of closers.reverse()) await c();
  }
}

export async function profileFile(path: string): Promise<string> {
  return profileText(readGatewayFile(path), path);
}
