/**
 * @file buildOpenApi: the document is structurally sound (every operation has responses, every $ref
 * resolves, every security requirement and path parameter is declared), lists exactly the routes
 * the options say, and its schemas, compiled with ajv (JSON Schema 2020-12), accept real bodies and
 * real answers and reject what the decoders reject.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { z } from 'zod';
import { type HeistErrorCode, errorCatalog, isHeistError } from '../core/errors.js';
import type { ModelInfo, Prediction } from '../core/prediction.js';
import { describeModel, decodePredictRequest, serializePredictResponse } from '../oracle/formats/heist-v1/index.js';
import { decodeChatRequest, encodeChatResponse, type ChatResponse } from './chat-wire.js';
import { type CompletionModel, type CompletionResponse, decodeCompletionRequest } from './completions-wire.js';
import { errorBody } from './errors.js';
import { issueKey } from './keys.js';
import { buildOpenApi } from './openapi.js';
import type { chatResponseSchema, completionResponseSchema, errorCodeSchema } from './openapi-schemas.js';
import { complete } from './routes/completions.js';

// Compile-time drift checks: the route's answer types fit the documented schemas.
const _completion: z.infer<typeof completionResponseSchema> = {} as CompletionResponse;
const _chat: z.infer<typeof chatResponseSchema> = {} as ChatResponse;
const _code: z.infer<typeof errorCodeSchema> = '' as HeistErrorCode;
void [_completion, _chat, _code];

type Json = Record<string, unknown>;

const info: ModelInfo = { name: 'digits', inputShape: [2, 3], classes: 3, output: 'probs', domain: { min: 0, max: 1 } };
const target = { info, inputSize: 6, servedOutput: info.output, maxBatch: 16 };
const full = buildOpenApi({
  hasCompletions: true,
  hasAdmin: true,
  metrics: 'admin',
  models: [describeModel('digits', target)],
});

function validator(doc: Json): (name: string, value: unknown) => boolean {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(doc, 'openapi.json');
  return (name, value) => {
    const v = ajv.getSchema(`openapi.json#/components/schemas/${name}`);
    assert.ok(v, `schema ${name}`);
    return v(value) as boolean;
  };
}
const valid = validator(full);

function pointer(doc: unknown, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `local ref ${ref}`);
  let at: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    assert.ok(typeof at === 'object' && at !== null && key in at, `${ref} resolves`);
    at = (at as Json)[key];
  }
  return at;
}

function walk(v: unknown, visit: (o: Json) => void): void {
  if (Array.isArray(v)) for (const x of v) walk(x, visit);
  else if (typeof v === 'object' && v !== null) {
    visit(v as Json);
    for (const x of Object.values(v)) walk(x, visit);
  }
}

const METHODS = ['get', 'post', 'put', 'delete', 'patch', 'head', 'options'];

test('the document is structurally sound: responses everywhere, refs resolve, schemes and parameters declared', () => {
  for (const doc of [full, buildOpenApi(), buildOpenApi({ metrics: 'public', anonymous: true })]) {
    assert.equal(doc.openapi, '3.1.0');
    const schemes = (doc.components as { securitySchemes: Json }).securitySchemes;
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      const declared = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item) as [string, Json][]) {
        assert.ok(METHODS.includes(method), `${path} ${method}`);
        const responses = op.responses as Json;
        assert.ok(
          Object.keys(responses).some((s) => /^2\d\d$/.test(s)),
          `${method} ${path} has a 2xx`,
        );
        for (const [status, r] of Object.entries(responses) as [string, Json][]) {
          assert.equal(typeof r.description, 'string');
          assert.notEqual(r.description, 'error: ', `${method} ${path} ${status} names its codes`);
        }
        assert.ok(typeof op.operationId === 'string' && !ids.has(op.operationId));
        ids.add(op.operationId as string);
        for (const req of op.security as Json[]) for (const name of Object.keys(req)) assert.ok(name in schemes, name);
        const pathParams = ((op.parameters as Json[] | undefined) ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name);
        assert.deepEqual(pathParams.sort(), [...declared].sort(), `${method} ${path} declares its path parameters`);
      }
    }
    walk(doc, (o) => {
      if (typeof o.$ref === 'string') pointer(doc, o.$ref);
    });
  }
  const s = (full.components as { securitySchemes: Record<string, Json> }).securitySchemes;
  assert.deepEqual(s.apiKey, { ...s.apiKey, type: 'apiKey', in: 'header', name: 'x-api-key' });
  assert.deepEqual(s.adminKey, { ...s.adminKey, type: 'apiKey', in: 'header', name: 'x-admin-key' });
});

test('the routes listed follow the options', () => {
  const routes = (doc: Json): string[] =>
    Object.entries(doc.paths as Record<string, Json>).flatMap(([p, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`),
    );
  const base = [
    'GET /healthz',
    'GET /openapi.json',
    'GET /v1/models',
    'GET /v1/models/{name}',
    'POST /v1/models/{name}/predict',
  ];
  assert.deepEqual(routes(buildOpenApi()), base);
  assert.deepEqual(routes(buildOpenApi({ metrics: 'public' })), [...base, 'GET /metrics']);
  assert.deepEqual(
    routes(full).sort(),
    [
      ...base,
      'POST /v1/completions',
      'POST /v1/chat/completions',
      'GET /metrics',
      'GET /admin/keys',
      'POST /admin/keys',
      'DELETE /admin/keys/{id}',
      'GET /admin/health',
      'GET /admin/audit/verify',
    ].sort(),
  );
  const predict = (full.paths as Record<string, { post: Json }>)['/v1/models/{name}/predict'].post;
  const content = (predict.requestBody as { content: Json }).content;
  assert.deepEqual(Object.keys(content), ['application/json', 'application/octet-stream']);
  const name = (predict.parameters as Json[])[0];
  assert.deepEqual((name.schema as Json).enum, ['digits']);
  const anon = buildOpenApi({ anonymous: true });
  assert.deepEqual(((anon.paths as Record<string, { get: Json }>)['/v1/models'].get.security as Json[]).at(-1), {});
});

test('the error body enumerates the catalog and matches what the gateway sends', () => {
  const enumOf = (
    ((full.components as { schemas: Record<string, Json> }).schemas.ErrorBody.properties as Json).error as {
      properties: { code: Json };
    }
  ).properties.code.enum;
  assert.deepEqual(enumOf, Object.keys(errorCatalog));
  assert.ok(valid('ErrorBody', errorBody('HEIST_ERR_SHAPE', 'rows must have 6 values')));
  assert.ok(!valid('ErrorBody', { error: { code: 'HEIST_ERR_MADE_UP', message: 'x' } }));
  assert.ok(!valid('ErrorBody', { error: { message: 'x' } }));
});

test('PredictRequest accepts what decodePredictRequest accepts and rejects what it rejects by shape', () => {
  const good = [{ inputs: [[0, 0.5, 1, 0, 0, 0]] }, { inputs: [[0, 0, 0, 0, 0, 0]], output: 'label' }];
  for (const b of good) {
    assert.ok(valid('PredictRequest', b), JSON.stringify(b));
    decodePredictRequest(b, target);
  }
  const bad = [
    {},
    { inputs: [] },
    { inputs: [[0]], extra: 1 },
    { inputs: [['a']] },
    { inputs: [[0]], output: 'logits' },
  ];
  for (const b of bad) {
    assert.ok(!valid('PredictRequest', b), JSON.stringify(b));
    assert.throws(
      () => decodePredictRequest(b, target),
      (e) => isHeistError(e),
    );
  }
});

test('PredictResponse, ModelDescription and ModelList accept the real answers', () => {
  const scores = { data: Float32Array.from([0.2, 0.3, 0.5, 0.6, 0.3, 0.1]), shape: [2, 3] };
  const labels = Int32Array.from([2, 0]);
  const answers: Prediction[] = [
    { kind: 'probs', labels, scores },
    { kind: 'logits', labels, scores },
    { kind: 'label', labels },
    { kind: 'probs', labels, scores, leafIds: ['n1', 'n7'] },
  ];
  for (const p of answers) assert.ok(valid('PredictResponse', JSON.parse(serializePredictResponse('digits', p))));
  assert.ok(!valid('PredictResponse', { predictions: [] }), 'model is always there');
  const d = describeModel('digits', target);
  assert.ok(valid('ModelDescription', d));
  assert.ok(valid('ModelList', { models: [d] }));
  assert.ok(valid('ModelDescription', describeModel('tree', { ...target, acceptsMissing: true })));
  assert.ok(valid('Health', { status: 'ok' }));
});

const lm: CompletionModel = { name: 'lm', nextLogits: () => Float64Array.from({ length: 256 }, (_, i) => Math.sin(i)) };

test('completion and chat schemas follow their decoders, and accept real answers', () => {
  const good = [
    { model: 'lm', prompt: 'hi' },
    {
      model: 'lm',
      prompt: [104, 105],
      max_tokens: 2,
      logprobs: 'full',
      logit_bias: { '65': 10 },
      temperature: 0,
      seed: 3,
    },
    { model: 'lm', prompt: 'x', logprobs: null, n: 1, stream: false, echo: false, user: 'u' },
  ];
  for (const b of good) {
    assert.ok(valid('CompletionRequest', b), JSON.stringify(b));
    decodeCompletionRequest(b);
  }
  const bad = [
    { prompt: 'hi' },
    { model: 'lm', prompt: 'hi', stream: true },
    { model: 'lm', prompt: 'hi', logprobs: 6 },
    { model: 'lm', prompt: 'hi', logit_bias: { a: 1 } },
    { model: 'lm', prompt: 'hi', logit_bias: { '1': 101 } },
    { model: 'lm', prompt: [256] },
    { model: 'lm', prompt: 'hi', max_tokens: 0 },
    { model: 'lm', prompt: 'hi', temperature: 3 },
    { model: 'lm', prompt: 'hi', extra: true },
  ];
  for (const b of bad) {
    assert.ok(!valid('CompletionRequest', b), JSON.stringify(b));
    assert.throws(
      () => decodeCompletionRequest(b),
      (e) => isHeistError(e),
    );
  }
  const chat = {
    model: 'lm',
    messages: [{ role: 'user', content: 'hi' }],
    logprobs: true,
    top_logprobs: 2,
    max_tokens: 3,
  };
  assert.ok(valid('ChatCompletionRequest', chat));
  decodeChatRequest(chat);
  for (const b of [
    { model: 'lm', messages: [] },
    { model: 'lm', messages: [{ role: 'tool', content: 'x' }] },
    { model: 'lm', messages: [{ role: 'user', content: 'x' }], top_logprobs: 9 },
  ]) {
    assert.ok(!valid('ChatCompletionRequest', b), JSON.stringify(b));
    assert.throws(
      () => decodeChatRequest(b),
      (e) => isHeistError(e),
    );
  }
  for (const b of good) {
    const r = complete(lm, decodeCompletionRequest(b), 'cmpl-1', 1700000000);
    assert.ok(valid('CompletionResponse', JSON.parse(JSON.stringify(r))));
    assert.ok(valid('ChatCompletionResponse', JSON.parse(JSON.stringify(encodeChatResponse(r)))));
  }
});

test('admin schemas accept the admin answers and the key request', () => {
  const { key, record } = issueKey({ tier: 'free', now: 1_700_000_000_000, label: 'acme' });
  const { secretSha256: _digest, ...shown } = record;
  assert.ok(valid('KeyRecord', shown));
  assert.ok(!valid('KeyRecord', record), 'the digest is never shown');
  assert.ok(valid('KeyList', { keys: [shown, { ...shown, revokedAt: 1_700_000_000_500 }] }));
  assert.ok(valid('CreatedKey', { key, ...shown }));
  assert.ok(valid('CreateKeyRequest', { tier: 'free', label: 'acme', expiresAt: 1_800_000_000_000 }));
  assert.ok(!valid('CreateKeyRequest', { label: 'no tier' }));
  assert.ok(!valid('CreateKeyRequest', { tier: 'free', secret: 'x' }));
  assert.ok(
    valid('AuditVerifyReport', { ok: true, records: 3, logs: [{ log: 'main', records: 3, head: 'ab'.repeat(32) }] }),
  );
  assert.ok(
    valid('AuditVerifyReport', {
      ok: false,
      records: 3,
      logs: [{ log: 'main', records: 3, head: '00'.repeat(32) }],
      firstBad: { log: 'main', seq: 2, reason: 'hash mismatch' },
    }),
  );
  assert.ok(
    valid('AdminHealth', {
      status: 'ok',
      uptimeSeconds: 12,
      keys: 1,
      tiers: ['free'],
      anonymous: false,
      audit: { url: 'sqlite://a.db', log: 'main' },
      limiter: null,
    }),
  );
});
