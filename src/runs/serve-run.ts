/**
 * @file `heist serve` as a function. Both ways in, a deployment file (`--config`, heist.gateway/v1)
 * or the flags of the one-model case, become the same validated GatewayFile; this file then loads
 * the models, opens the key file, the limit store and the audit log, builds the gateway, listens,
 * and on close drains in-flight requests before it flushes and closes the stores.
 */
import { basename, extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HeistError, isHeistError } from '../core/errors.js';
import type { Predictor } from '../core/prediction.js';
import { type Logger, silentLogger, systemClock } from '../core/types.js';
import { type DefenseSpec, createDefenses } from '../defenses/index.js';
import { createPipeline } from '../defenses/pipeline.js';
import type { AccessPolicy } from '../gateway/access.js';
import { readKeyFile, watchKeyFile } from '../gateway/key-file.js';
import { KeyRing, secretDigest } from '../gateway/keys.js';
import { buildGateway } from '../gateway/server.js';
import { loadOnnxModel } from '../backends/onnx-model.js';
import { ensemblePredictor } from '../models/ensemble.js';
import { isTreeFile, loadTreeModel } from '../models/tree.js';
import { loadTinyLm, nextLogits } from '../models/tiny-lm.js';
import { parseHmacKey } from '../store/audit-chain.js';
import { openAuditStore, type AuditStore } from '../store/index.js';
import { openLimitStore } from '../store/limits/index.js';
import type { LimitStore } from '../store/limits/types.js';
import { type GatewayFile, type GatewayFileInput, parseGatewayFile, readGatewayFile } from './gateway-file.js';

/** The flags of the one-model case (the deployment file can say all of this and more). */
export interface ServeFlags {
  readonly models: readonly string[];
  /** Language model files (heist.tiny-lm/v1 JSON) served on POST /v1/completions. */
  readonly lms?: readonly string[];
  readonly maxBatch?: number;
  /** Audit log URL, e.g. sqlite://runs/audit.db: one durable record per request. */
  readonly audit?: string;
  /** Serve even when the audit log cannot record (default: refuse with 503). */
  readonly auditFailOpen?: boolean;
  /** Round served probabilities to this many decimals (Tramèr et al.'s rounding countermeasure). */
  readonly round?: number;
  /** Further defense stages by registry name, applied in order after rounding. */
  readonly defenses?: readonly DefenseSpec[];
  /** A heist.keys/v1 file: requests need one of its keys. Every tier in it is served without limits. */
  readonly keys?: string;
  /** Requests without a key are served too, identified by IP. */
  readonly anonymous?: boolean;
  /** The environment variable holding the admin key (admin routes and /metrics). */
  readonly adminKeyEnv?: string;
  /** The environment variable holding the secret that keys per-input randomness in defenses. */
  readonly secretEnv?: string;
}

export interface ServeOptions extends Partial<ServeFlags> {
  /** A heist.gateway/v1 file; when set, the flags above must be absent. */
  readonly config?: string;
  readonly port?: number;
  readonly host?: string;
  /** Log every request (pino JSON lines). */
  readonly logger?: boolean;
  readonly logStream?: NodeJS.WritableStream;
  readonly log?: Logger;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunningGateway {
  readonly app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly modelNames: readonly string[];
  /** Names of the language models served on /v1/completions. */
  readonly lmNames?: readonly string[];
  readonly auditStore?: AuditStore;
  readonly limitStore?: LimitStore;
  /** Drains in-flight requests, then flushes and closes the audit log and the stores. */
  close(): Promise<void>;
}

const FLAG_KEYS = [
  'models',
  'lms',
  'maxBatch',
  'audit',
  'auditFailOpen',
  'round',
  'defenses',
  'keys',
  'anonymous',
  'adminKeyEnv',
] as const;

/** The one-model flags as a deployment document (same validation, same code path). */
export function flagsToFile(f: ServeFlags): GatewayFileInput {
  if (!f.keys && !f.anonymous)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      'heist serve needs --keys FILE (requests need an API key; create one with heist keys create) or --anonymous (anyone may ask, identified by IP), or --config FILE',
    );
  const stages: DefenseSpec[] = [
    ...(f.round !== undefined ? [{ name: 'round', options: { decimals: f.round } }] : []),
    ...(f.defenses ?? []),
  ];
  const tiers: Record<string, object> = {};
  if (f.keys) for (const k of readKeyFile(f.keys)) tiers[k.tier] = {};
  if (f.anonymous) tiers.anonymous = {};
  return {
    version: 'heist.gateway/v1',
    ...(f.secretEnv ? { secretEnv: f.secretEnv } : {}),
    models: f.models.map((file) => ({ file, defenses: stages })),
    languageModels: (f.lms ?? []).map((file) => ({ file })),
    access: {
      ...(f.keys ? { keyFile: f.keys } : {}),
      tiers,
      ...(f.anonymous ? { anonymousTier: 'anonymous' } : {}),
      ...(f.adminKeyEnv ? { adminKeyEnv: f.adminKeyEnv } : {}),
    },
    ...(f.audit ? { audit: { url: f.audit, failMode: f.auditFailOpen ? 'open' : 'closed' } } : {}),
    server: { ...(f.maxBatch !== undefined ? { maxBatch: f.maxBatch } : {}) },
  };
}

async function loadPredictor(file: string): Promise<Predictor & { close?(): Promise<void> }> {
  // A *.tree.json file is a decision tree (heist.tree/v1): answers carry leaf ids, null inputs are missing features.
  return isTreeFile(file) ? loadTreeModel(file) : loadOnnxModel(file, { name: undefined });
}

const nameFromFile = (file: string): string => basename(file, extname(file)).replace(/\.tree$/, '');

/** The name a model file is served under when the deployment gives none: its own, unless generic, else the file's. */
export function servedModelName(info: { readonly name?: string }, file: string): string {
  return info.name && info.name !== 'model' ? info.name : nameFromFile(file);
}

/** The value of the environment variable `name`, which must hold a secret of at least 16 characters (never echoed in errors). */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const v = env[name];
  if (v === undefined || v.length < 16)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `${what}: environment variable ${name} must hold a secret of at least 16 characters`,
    );
  return v;
}

export function resolveServeFile(opts: ServeOptions): GatewayFile {
  const flagged = FLAG_KEYS.filter((k) => {
    const v = opts[k];
    return v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0);
  });
  if (opts.config !== undefined) {
    if (flagged.length > 0)
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `--config says everything; drop ${flagged.join(', ')} (or put them in the file)`,
      );
    return readGatewayFile(opts.config);
  }
  if ((opts.models ?? []).length === 0 && (opts.lms ?? []).length === 0)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      'heist serve needs --config FILE, or at least one --model <file.onnx> or --lm <file.json>',
    );
  return parseGatewayFile(flagsToFile({ ...opts, models: opts.models ?? [] }), 'heist serve', process.cwd());
}

const DAY_MS = 86_400_000;

/** Prunes records older than `days` now and then daily; a failed prune (e.g. a tampered chain) is logged. */
function keepRetention(store: AuditStore, days: number, log: Logger): () => void {
  const prune = (): void => {
    store.prune(Date.now() - days * DAY_MS).then(
      (n) => n > 0 && log.info('audit retention: pruned old records', { records: n, days }),
      (e) => log.error('audit retention: prune failed; records kept', { err: String(e) }),
    );
  };
  prune();
  const timer = setInterval(prune, DAY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export interface LoadedModel {
  readonly name: string;
  readonly predictor: Predictor;
  readonly inputDomain: 'reject' | 'clip';
  readonly defenses: readonly DefenseSpec[];
}

/** Loads the file's models (closers collects what must be closed, even when a later load fails). */
export async function loadModels(file: GatewayFile, closers: (() => Promise<void> | void)[]): Promise<LoadedModel[]> {
  const loaded: LoadedModel[] = [];
  for (const [i, m] of file.models.entries()) {
    let predictor: Predictor;
    if (m.ensemble) {
      const members = [];
      for (const f of m.ensemble.members) {
        const p = await loadPredictor(f);
        if (p.close) closers.push(() => p.close!());
        members.push(p);
      }
      predictor = ensemblePredictor(m.name!, members, m.ensemble.combine);
    } else {
      const p = await loadPredictor(m.file!);
      if (p.close) closers.push(() => p.close!());
      predictor = p;
    }
    const own = servedModelName(predictor.info, m.file ?? `model-${i}`);
    loaded.push({ name: m.name ?? own, predictor, inputDomain: m.inputDomain, defenses: m.defenses });
  }
  const names = loaded.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new HeistError('HEIST_ERR_BAD_CONFIG', `two models are named "${dup}"`);
  return loaded;
}

export async function startGateway(opts: ServeOptions): Promise<RunningGateway> {
  const file = resolveServeFile(opts);
  const env = opts.env ?? process.env;
  const log = opts.log ?? silentLogger;
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const loaded = await loadModels(file, closers);
    const names = loaded.map((m) => m.name);
    const languageModels = file.languageModels.map(({ file: path }) => {
      const lm = loadTinyLm(path);
      return {
        name: lm.name || basename(path, extname(path)),
        nextLogits: (tokens: readonly number[]) => nextLogits(lm, tokens),
      };
    });

    const keys = new KeyRing(file.access.keyFile ? readKeyFile(file.access.keyFile) : []);
    if (file.access.keyFile)
      closers.push(
        watchKeyFile(
          file.access.keyFile,
          (records) => keys.replace(records),
          (e) => log.error('key file unreadable; keeping the previous keys', { err: String(e) }),
        ),
      );
    const limitStore = await openLimitStore(file.limits.store, { timeoutMs: file.limits.timeoutMs });
    closers.push(() => limitStore.close());
    const access: AccessPolicy = {
      keys,
      tiers: file.access.tiers,
      ...(file.access.anonymousTier !== undefined ? { anonymousTier: file.access.anonymousTier } : {}),
      ...(file.access.adminKeyEnv
        ? { adminKeySha256: secretDigest(secretFromEnv(env, file.access.adminKeyEnv, 'access.adminKeyEnv')) }
        : {}),
      limiter: { store: limitStore, failMode: file.limits.failMode },
    };
    let auditStore: AuditStore | undefined;
    if (file.audit) {
      const hmacKey = file.audit.hmacKeyEnv
        ? parseHmacKey(env[file.audit.hmacKeyEnv], `audit.hmacKeyEnv ($${file.audit.hmacKeyEnv})`)
        : undefined;
      auditStore = await openAuditStore(file.audit.url, {
        ...(file.audit.log ? { log: file.audit.log } : {}),
        commitTimeoutMs: file.audit.commitTimeoutMs,
        ...(hmacKey ? { hmacKey } : {}),
      });
      const store = auditStore;
      closers.push(() => store.close());
      const days = file.audit.retentionDays;
      if (days !== undefined) closers.push(keepRetention(store, days, log));
    }
    const deps = {
      clock: systemClock,
      log,
      ...(file.secretEnv ? { secret: Buffer.from(secretFromEnv(env, file.secretEnv, 'secretEnv')) } : {}),
    };
    const models = loaded.map((m, i) => {
      let stages: ReturnType<typeof createDefenses>;
      try {
        stages = createDefenses(m.defenses, deps);
      } catch (e) {
        if (isHeistError(e, 'HEIST_ERR_BAD_CONFIG'))
          throw new HeistError('HEIST_ERR_BAD_CONFIG', `models.${i}.defenses: ${e.message}`, { details: e.details });
        throw e;
      }
      return {
        name: m.name,
        predictor: m.predictor,
        inputDomain: m.inputDomain,
        // Each model gets its own pipeline instance (per-model state).
        pipeline: stages.length > 0 ? createPipeline(stages, { log }) : undefined,
      };
    });
    const s = file.server;
    const app = buildGateway(
      {
        models,
        ...(s.maxBatch !== undefined ? { maxBatch: s.maxBatch } : {}),
        ...(s.bodyLimitBytes !== undefined ? { bodyLimitBytes: s.bodyLimitBytes } : {}),
        ...(s.maxJsonDepth !== undefined ? { maxJsonDepth: s.maxJsonDepth } : {}),
        ...(s.maxConnections !== undefined ? { maxConnections: s.maxConnections } : {}),
        ...(s.maxBufferedBodyBytes !== undefined ? { maxBufferedBodyBytes: s.maxBufferedBodyBytes } : {}),
        ...(s.trustProxy !== undefined ? { trustProxy: s.trustProxy } : {}),
        ...(s.metrics !== undefined ? { metrics: s.metrics } : {}),
        ...(s.timeouts ? { timeouts: s.timeouts } : {}),
        logger: opts.logger ?? s.logRequests ?? false,
        ...(opts.logStream ? { logStream: opts.logStream } : {}),
        access: { ...access, ...(file.access.keyFile ? { keyFile: file.access.keyFile } : {}) },
        ...(auditStore
          ? { audit: { store: auditStore, failMode: file.audit!.failMode, inputs: file.audit!.inputs } }
          : {}),
      },
      { languageModels },
    );
    const address = await app.listen({ port: opts.port ?? file.listen.port, host: opts.host ?? file.listen.host });
    let closed = false;
    return {
      app,
      url: address.replace('[::1]', '127.0.0.1'),
      modelNames: names,
      lmNames: languageModels.map((m) => m.name),
      ...(auditStore ? { auditStore } : {}),
      limitStore,
      close: async () => {
        if (closed) return;
        closed = true;
        // fastify's close waits for in-flight requests, each of which waits for its audit record.
        await app.close();
        await closeAll();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
