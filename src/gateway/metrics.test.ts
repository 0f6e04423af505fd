/**
 * @file GatewayMetrics: each method's counter appears in render() with its labels and value; two
 * instances share nothing (and nothing lands in prom-client's global registry); labels stay bounded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { GatewayMetrics } from './metrics.js';

const PREDICT = 'POST /v1/models/:name/predict';

/** The value of one sample line, e.g. sample(text, 'heist_rows_served_total{model="m"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('every metric shows up in render() with its labels and value', async () => {
  const m = new GatewayMetrics();
  m.observeRequest(PREDICT, 200, 0.004);
  m.observeRequest(PREDICT, 200, 0.02);
  m.observeRequest(PREDICT, 429, 0.001);
  m.refusal('HEIST_ERR_RATE_LIMITED');
  m.rowsServed('digits', 256);
  m.rowsServed('digits', 4);
  m.observeAuditAppend(0.003);
  m.auditFailure();
  m.limiterDecision('allowed', 'free');
  m.limiterDecision('limited', 'free');
  m.limiterDecision('store_unavailable', 'pro');
  m.detectorFlag('prada', 'suspected-extraction');
  m.detectorFlag('prada', 'blocked');
  m.detectorFlag('prada', 'free text');
  const text = await m.render();
  assert.equal(sample(text, `heist_http_requests_total{route="${PREDICT}",status="200"}`), 2);
  assert.equal(sample(text, `heist_http_requests_total{route="${PREDICT}",status="429"}`), 1);
  assert.equal(sample(text, 'heist_refusals_total{code="HEIST_ERR_RATE_LIMITED"}'), 1);
  assert.equal(sample(text, `heist_http_request_duration_seconds_count{route="${PREDICT}"}`), 3);
  assert.equal(sample(text, `heist_http_request_duration_seconds_bucket{le="0.005",route="${PREDICT}"}`), 2);
  assert.equal(sample(text, 'heist_rows_served_total{model="digits"}'), 260);
  assert.equal(sample(text, 'heist_audit_append_seconds_count'), 1);
  assert.equal(sample(text, 'heist_audit_append_seconds_bucket{le="0.005"}'), 1);
  assert.equal(sample(text, 'heist_audit_failures_total'), 1);
  assert.equal(sample(text, 'heist_limiter_decisions_total{decision="allowed",tier="free"}'), 1);
  assert.equal(sample(text, 'heist_limiter_decisions_total{decision="limited",tier="free"}'), 1);
  assert.equal(sample(text, 'heist_limiter_decisions_total{decision="store_unavailable",tier="pro"}'), 1);
  assert.equal(sample(text, 'heist_detector_flags_total{detector="prada",verdict="suspected-extraction"}'), 1);
  assert.equal(sample(text, 'heist_detector_flags_total{detector="prada",verdict="blocked"}'), 1);
  assert.equal(sample(text, 'heist_detector_flags_total{detector="prada",verdict="other"}'), 1);
  assert.match(text, /# TYPE heist_http_request_duration_seconds histogram/);
  assert.match(m.contentType, /^text\/plain/);
  assert.doesNotMatch(text, /^process_/m, 'default metrics are off unless asked for');
});

test('two instances share no values, and the global registry stays empty', async () => {
  const a = new GatewayMetrics();
  const b = new GatewayMetrics();
  a.rowsServed('m', 5);
  b.rowsServed('m', 7);
  a.auditFailure();
  assert.equal(sample(await a.render(), 'heist_rows_served_total{model="m"}'), 5);
  assert.equal(sample(await b.render(), 'heist_rows_served_total{model="m"}'), 7);
  assert.equal(sample(await b.render(), 'heist_audit_failures_total'), 0);
  assert.equal(globalRegistry.getSingleMetric('heist_rows_served_total'), undefined);
});

test('default process metrics are collected into the instance registry when asked for', async () => {
  const m = new GatewayMetrics({ defaultMetrics: true });
  const text = await m.render();
  assert.match(text, /^process_cpu_user_seconds_total /m);
  assert.match(text, /^heist_audit_failures_total 0$/m);
  assert.equal(globalRegistry.getSingleMetric('process_cpu_user_seconds_total'), undefined);
});

test('labels stay bounded: past maxLabelValues new values count as "other"; bad statuses and codes too', async () => {
  const m = new GatewayMetrics({ maxLabelValues: 2 });
  for (const route of ['GET /a', 'GET /b', 'GET /c', 'GET /d', 'GET /a']) m.observeRequest(route, 200, 0.001);
  m.observeRequest('GET /a', 7000, Number.NaN);
  m.refusal('HEIST_ERR_NOPE' as never);
  const text = await m.render();
  assert.equal(sample(text, 'heist_http_requests_total{route="GET /a",status="200"}'), 2);
  assert.equal(sample(text, 'heist_http_requests_total{route="other",status="200"}'), 2);
  assert.equal(sample(text, 'heist_http_requests_total{route="GET /a",status="other"}'), 1);
  assert.equal(sample(text, 'heist_http_request_duration_seconds_count{route="GET /a"}'), 2, 'NaN is not observed');
  assert.equal(sample(text, 'heist_refusals_total{code="other"}'), 1);
});
