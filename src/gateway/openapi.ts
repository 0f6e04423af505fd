/**
 * @file buildOpenApi(options): the gateway's API as an OpenAPI 3.1 document (a plain object), with
 * every body schema generated from the zod schemas of openapi-schemas.ts (z.toJSONSchema, JSON
 * Schema 2020-12, which OpenAPI 3.1 uses as is). Only the routes this gateway serves are listed:
 * completions with language models, admin routes and /metrics per the admin key and exposure.
 */
import { z } from 'zod';
import { errorCatalog } from '../core/errors.js';
import type { ModelDescription } from '../oracle/formats/heist-v1/schema.js';
import {
  adminHealthResponseSchema,
  auditVerifyResponseSchema,
  chatRequestSchema,
  chatResponseSchema,
  completionRequestSchema,
  completionResponseSchema,
  createKeyRequestSchema,
  createdKeyResponseSchema,
  errorBodySchema,
  healthResponseSchema,
  keyListResponseSchema,
  keyRecordSchema,
  modelDescriptionSchema,
  modelListResponseSchema,
  predictRequestSchema,
  predictResponseSchema,
} from './openapi-schemas.js';

export interface OpenApiOptions {
  /** POST /v1/completions and /v1/chat/completions are served (language models configured). */
  readonly hasCompletions?: boolean;
  /** The /admin routes are served (an admin key is configured). */
  readonly hasAdmin?: boolean;
  /** GET /metrics exposure, as in the gateway config (default 'admin': listed only with hasAdmin). */
  readonly metrics?: 'admin' | 'public' | 'off';
  /** Requests under /v1 are answered without an API key (an anonymous tier is configured). */
  readonly anonymous?: boolean;
  /** The served models: their names become the {name} enum and their shapes are listed. */
  readonly models?: readonly ModelDescription[];
  readonly title?: string;
  readonly version?: string;
}

type Json = Record<string, unknown>;

/** components.schemas: name -> [zod schema, 'input' for request bodies (defaults optional) or 'output']. */
const SCHEMAS: Readonly<Record<string, readonly [z.ZodType, 'input' | 'output']>> = {
  ErrorBody: [errorBodySchema, 'output'],
  Health: [healthResponseSchema, 'output'],
  ModelList: [modelListResponseSchema, 'output'],
  ModelDescription: [modelDescriptionSchema, 'output'],
  PredictRequest: [predictRequestSchema, 'input'],
  PredictResponse: [predictResponseSchema, 'output'],
  CompletionRequest: [completionRequestSchema, 'input'],
  CompletionResponse: [completionResponseSchema, 'output'],
  ChatCompletionRequest: [chatRequestSchema, 'input'],
  ChatCompletionResponse: [chatResponseSchema, 'output'],
  KeyRecord: [keyRecordSchema, 'output'],
  KeyList: [keyListResponseSchema, 'output'],
  CreateKeyRequest: [createKeyRequestSchema, 'input'],
  CreatedKey: [createdKeyResponseSchema, 'output'],
  AuditVerifyReport: [auditVerifyResponseSchema, 'output'],
  AdminHealth: [adminHealthResponseSchema, 'output'],
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as Json;
  return rest;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string): Json => ({ 'application/json': { schema: ref(name) } });

/** An error response per status, each listing the catalog codes that carry that status. */
function errors(...statuses: number[]): Json {
  const out: Json = {};
  for (const status of statuses) {
    const codes = Object.entries(errorCatalog)
      .filter(([, e]) => e.status === status)
      .map(([code]) => code);
    out[String(status)] = { description: `error: ${codes.join(', ')}`, content: json('ErrorBody') };
  }
  return out;
}

const ok = (description: string, schema: string, status = '200'): Json => ({
  [status]: { description, content: json(schema) },
});

export function buildOpenApi(options: OpenApiOptions = {}): Json {
  const models = options.models ?? [];
  const metrics = options.metrics ?? 'admin';
  const apiSecurity = [{ apiKey: [] }, { bearer: [] }, ...(options.anonymous ? [{}] : [])];
  const adminSecurity = [{ adminKey: [] }, { bearer: [] }];
  const nameParam: Json = {
    name: 'name',
    in: 'path',
    required: true,
    description:
      models.length === 0
        ? 'a served model (GET /v1/models lists them)'
        : `a served model: ${models.map((m) => `${m.name} (inputShape [${m.inputShape.join(', ')}], inputSize ${m.inputSize}, output ${m.output}, maxBatch ${m.maxBatch})`).join('; ')}`,
    schema: models.length === 0 ? { type: 'string' } : { type: 'string', enum: models.map((m) => m.name) },
  };

  const paths: Record<string, Json> = {
    '/healthz': {
      get: {
        operationId: 'health',
        summary: 'liveness',
        security: [],
        responses: { ...ok('alive', 'Health'), ...errors(400, 500, 503) },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'this document',
        security: [],
        responses: {
          '200': {
            description: 'the OpenAPI 3.1 document',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          ...errors(400, 500, 503),
        },
      },
    },
    '/v1/models': {
      get: {
        operationId: 'listModels',
        summary: 'the served models and what each accepts',
        security: apiSecurity,
        responses: { ...ok('the models', 'ModelList'), ...errors(400, 401, 500, 503) },
      },
    },
    '/v1/models/{name}': {
      get: {
        operationId: 'describeModel',
        summary: 'one model: input shape and size, classes, output kind, input domain, batch limit',
        security: apiSecurity,
        parameters: [nameParam],
        responses: { ...ok('the model', 'ModelDescription'), ...errors(400, 401, 404, 500, 503) },
      },
    },
    '/v1/models/{name}/predict': {
      post: {
        operationId: 'predict',
        summary: 'answers rows (heist-v1): a JSON body, or float32 rows as application/octet-stream',
        security: apiSecurity,
        parameters: [
          nameParam,
          {
            name: 'x-heist-output',
            in: 'header',
            required: false,
            description: 'octet-stream bodies only: what the JSON body\'s "output" field says',
            schema: { type: 'string', enum: ['label', 'probabilities'] },
          },
        ],
        requestBody: {
          required: true,
          content: {
            ...json('PredictRequest'),
            'application/octet-stream': {
              schema: {
                type: 'string',
                format: 'binary',
                description:
                  'n rows of inputSize little-endian float32 values, row-major, no header (n * inputSize * 4 bytes); NaN is a missing feature for models with missingValues',
              },
            },
          },
        },
        responses: {
          ...ok('one prediction per row, in order', 'PredictResponse'),
          ...errors(400, 401, 403, 404, 408, 413, 415, 429, 500, 503),
        },
      },
    },
  };

  if (options.hasCompletions) {
    paths['/v1/completions'] = {
      post: {
        operationId: 'createCompletion',
        summary: 'OpenAI-compatible legacy completions over the byte-level language models',
        security: apiSecurity,
        requestBody: { required: true, content: json('CompletionRequest') },
        responses: { ...ok('the completion', 'CompletionResponse'), ...errors(400, 401, 404, 408, 413, 415, 500, 503) },
      },
    };
    paths['/v1/chat/completions'] = {
      post: {
        operationId: 'createChatCompletion',
        summary: 'OpenAI-compatible chat completions over the same models',
        security: apiSecurity,
        requestBody: { required: true, content: json('ChatCompletionRequest') },
        responses: {
          ...ok('the completion', 'ChatCompletionResponse'),
          ...errors(400, 401, 404, 408, 413, 415, 500, 503),
        },
      },
    };
  }

  if (metrics === 'public' || (metrics === 'admin' && options.hasAdmin)) {
    paths['/metrics'] = {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics (text exposition format)',
        security: metrics === 'public' ? [] : adminSecurity,
        responses: {
          '200': { description: 'the metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
          ...errors(400, ...(metrics === 'public' ? [] : [401]), 500, 503),
        },
      },
    };
  }

  if (options.hasAdmin) {
    paths['/admin/keys'] = {
      get: {
        operationId: 'listKeys',
        summary: 'every API key (ids, tiers, dates; never secrets)',
        security: adminSecurity,
        responses: { ...ok('the keys', 'KeyList'), ...errors(400, 401, 500, 503) },
      },
      post: {
        operationId: 'createKey',
        summary: 'issues an API key for a tier; the answer holds the key, shown once',
        security: adminSecurity,
        requestBody: { required: true, content: json('CreateKeyRequest') },
        responses: { ...ok('the new key', 'CreatedKey', '201'), ...errors(400, 401, 413, 415, 500, 503) },
      },
    };
    paths['/admin/keys/{id}'] = {
      delete: {
        operationId: 'revokeKey',
        summary: 'revokes a key (kept, marked revoked, so audit records still resolve)',
        security: adminSecurity,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{12}$' } }],
        responses: { ...ok('the revoked key', 'KeyRecord'), ...errors(400, 401, 404, 500, 503) },
      },
    };
    paths['/admin/health'] = {
      get: {
        operationId: 'adminHealth',
        summary: 'health details: keys, tiers, audit and limiter stores',
        security: adminSecurity,
        responses: { ...ok('the details', 'AdminHealth'), ...errors(400, 401, 500, 503) },
      },
    };
    paths['/admin/audit/verify'] = {
      get: {
        operationId: 'verifyAudit',
        summary: "walks the audit log's hash chains and reports the first record that fails",
        security: adminSecurity,
        responses: { ...ok('the verification report', 'AuditVerifyReport'), ...errors(400, 401, 404, 500, 503) },
      },
    };
  }

  const schemas: Record<string, Json> = {};
  for (const [name, [schema, io]] of Object.entries(SCHEMAS)) schemas[name] = jsonSchema(schema, io);

  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'Heist gateway',
      version: options.version ?? '1',
      description:
        'Prediction API (heist-v1 wire format) behind defenses, rate limits and an audit log. Every error is {"error": {"code": "HEIST_ERR_...", "message"}}.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'an API key, hk_<id>_<secret>' },
        adminKey: { type: 'apiKey', in: 'header', name: 'x-admin-key', description: 'the admin key' },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Authorization: Bearer <key>: the API key on /v1, the admin key on /admin and /metrics',
        },
      },
    },
  };
}
