/**
 * @file The deployment file of `heist serve --config FILE` (heist.gateway/v1, YAML or JSON): the
 * models with their defense stages in the order they apply, the keys and tiers, the stores and the
 * fail modes. Validated once at start-up; every error names the file and the bad key
 * (`tiers.free.perKey.rows.minute: ...`). Relative paths are relative to the file. Secrets are never
 * in the file: the admin key and any HMAC key are named by environment variable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { defenses } from '../defenses/index.js';
import { failModeSchema, tierSchema } from '../gateway/config.js';
import { registryName } from './registry-name.js';

// Tiers and fail modes are the gateway's own schemas: one definition of what a limit is.
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const defenseSpec = z.strictObject({ name: registryName(defenses), options: z.unknown().optional() });

const modelSpec = z
  .strictObject({
    /** Served name; default: the ONNX metadata name, else the file name. */
    name: z.string().optional(),
    /** An .onnx file or a decision tree .tree.json. */
    file: z.string().min(1).optional(),
    /** Several model files answering as one (probabilities averaged, or labels voted). */
    ensemble: z
      .strictObject({
        members: z.array(z.string().min(1)).min(2),
        combine: z.enum(['average', 'vote']).default('average'),
      })
      .optional(),
    defenses: z.array(defenseSpec).default([]),
    inputDomain: z.enum(['reject', 'clip']).default('reject'),
  })
  .refine((m) => (m.file === undefined) !== (m.ensemble === undefined), {
    message: 'a model has exactly one of "file" or "ensemble"',
  })
  .refine((m) => m.ensemble === undefined || m.name !== undefined, {
    message: 'an ensemble needs a "name"',
    path: ['name'],
  });

export const gatewayFileSchema = z.strictObject({
  version: z.literal('heist.gateway/v1'),
  listen: z
    .strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) })
    .default({ host: '127.0.0.1', port: 8080 }),
  /** The environment variable holding the deployment secret that keys per-input randomness in defenses (same on every replica). */
  secretEnv: envName.optional(),
  models: z.array(modelSpec).default([]),
  languageModels: z.array(z.strictObject({ file: z.string().min(1) })).default([]),
  access: z
    .strictObject({
      /** heist.keys/v1 file written by `heist keys create`; watched for changes. */
      keyFile: z.string().min(1).optional(),
      tiers: z.record(z.string(), tierSchema).default({}),
      /** Serve requests without a key as this tier, identified by IP. Off unless set. */
      anonymousTier: z.string().optional(),
      /** The environment variable holding the admin key; unset: no admin routes. */
      adminKeyEnv: envName.optional(),
    })
    .default({ tiers: {} }),
  limits: z
    .strictObject({
      store: z.string().default('memory://'),
      failMode: failModeSchema.default('closed'),
      timeoutMs: z.number().int().min(1).max(10_000).default(200),
    })
    .default({ store: 'memory://', failMode: 'closed', timeoutMs: 200 }),
  audit: z
    .strictObject({
      url: z.string().min(1),
      failMode: failModeSchema.default('closed'),
      inputs: z.boolean().default(true),
      log: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/)
        .optional(),
      commitTimeoutMs: z.number().int().min(10).max(60_000).default(5000),
      /** The environment variable holding an HMAC key for the chain (recommended). */
      hmacKeyEnv: envName.optional(),
      /** Delete records older than this many days, at start-up and then daily (default: keep all). */
      retentionDays: z.number().positive().max(36_500).optional(),
    })
    .optional(),
  server: z
    .strictObject({
      maxBatch: z.number().int().min(1).max(1_000_000).optional(),
      bodyLimitBytes: z.number().int().min(1024).optional(),
      maxJsonDepth: z.number().int().min(2).max(64).optional(),
      maxConnections: z.number().int().min(1).optional(),
      maxBufferedBodyBytes: z.number().int().min(1024).optional(),
      trustProxy: z.boolean().optional(),
      metrics: z.enum(['admin', 'public', 'off']).optional(),
      logRequests: z.boolean().optional(),
      timeouts: z
        .strictObject({
          headersMs: z.number().int().min(100).optional(),
          requestMs: z.number().int().min(100).optional(),
          keepAliveMs: z.number().int().min(100).optional(),
        })
        .optional(),
    })
    .default({}),
});

export type GatewayFile = z.output<typeof gatewayFileSchema>;
export type GatewayFileInput = z.input<typeof gatewayFileSchema>;

/** Zod issues as `path.to.key: message` lines. */
function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ');
}

/** Validates a parsed document; `where` prefixes errors (the file name). */
export function parseGatewayFile(doc: unknown, where: string, baseDir: string): GatewayFile {
  const r = gatewayFileSchema.safeParse(doc);
  if (!r.success)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `${where}: ${issues(r.error)}`, { details: r.error.issues });
  const cfg = r.data;
  const tiers = Object.keys(cfg.access.tiers);
  if (cfg.access.anonymousTier !== undefined && !tiers.includes(cfg.access.anonymousTier))
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `${where}: access.anonymousTier: "${cfg.access.anonymousTier}" is not among access.tiers (${tiers.join(', ') || 'none'})`,
    );
  if (cfg.access.keyFile === undefined && cfg.access.anonymousTier === undefined)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `${where}: access: set keyFile (API keys) or anonymousTier (anyone may ask, identified by IP), or both`,
    );
  if (cfg.models.length === 0 && cfg.languageModels.length === 0)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `${where}: models: list at least one model (or languageModels)`);
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const atUrl = (u: string): string =>
    u.replace(/^sqlite:\/\/(?!:memory:)(.+)$/i, (_m, p: string) => `sqlite://${at(p)}`);
  return {
    ...cfg,
    models: cfg.models.map((m) => ({
      ...m,
      ...(m.file !== undefined ? { file: at(m.file) } : {}),
      ...(m.ensemble ? { ensemble: { ...m.ensemble, members: m.ensemble.members.map(at) } } : {}),
    })),
    languageModels: cfg.languageModels.map((l) => ({ file: at(l.file) })),
    access: { ...cfg.access, ...(cfg.access.keyFile !== undefined ? { keyFile: at(cfg.access.keyFile) } : {}) },
    ...(cfg.audit ? { audit: { ...cfg.audit, url: atUrl(cfg.audit.url) } } : {}),
  };
}

export function readGatewayFile(path: string): GatewayFile {
  if (!existsSync(path)) throw new HeistError('HEIST_ERR_BAD_CONFIG', `config file ${path} does not exist`);
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `config file ${path} is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return parseGatewayFile(doc, path, dirname(resolve(path)));
}
