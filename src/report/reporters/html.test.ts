/** @file Tests for the HTML report: self-contained, shows the numbers, and escapes hostile text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleRunRecord } from '../sample-run.js';
import { escapeHtml, renderHtmlReport } from './html.js';

test('escapeHtml escapes the five special characters', () => {
  assert.equal(
    escapeHtml(`<a href="x" onclick='y'>&</a>`),
    '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
  );
});

test('the report contains title, headline numbers, plot, rounds and config', async () => {
  const html = await renderHtmlReport(sampleRunRecord());
  assert.ok(html.startsWith('<!doctype html>'));
  assert.match(html, /<title>Heist steal report: mnist<\/title>/);
  for (const s of [
    '0.9187',
    '0.8876',
    '3,000',
    '17',
    '500',
    '3,500',
    '1 min 23.4 s',
    '0.002 USD',
    'total 7 USD',
    'target 0.9000',
  ]) {
    assert.ok(html.includes(s), `missing ${s}`);
  }
  for (const s of ['0.6123', '0.8234', '0.5987', '1,000', '2,000', '4.1 s', '52.6 s', 'agreementKl', '0.0421'])
    assert.ok(html.includes(s), `missing ${s}`);
  for (const s of ['natural-pool', 'mlp', 'fixtures/pool.npy', '[28, 28, 1]', 'probs', '>42<'])
    assert.ok(html.includes(s), `missing ${s}`);
  assert.match(html, /<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(html, /class="mark-line/);
  assert.ok(html.includes('href="./substitute.onnx"'));
  const rec = sampleRunRecord();
  const twice = await renderHtmlReport({ ...rec, config: { ...rec.config, seed: rec.seed } });
  assert.equal(twice.match(/<td>seed<\/td>/g)?.length, 1, 'seed is listed once, in or out of the config');
});

test('the report is self-contained: no scripts, no external loads', async () => {
  const html = await renderHtmlReport(sampleRunRecord());
  assert.ok(!/<script/i.test(html));
  assert.ok(!/<link\b/i.test(html));
  assert.ok(!/\bsrc=/i.test(html));
  assert.ok(!/url\(/i.test(html));
  assert.ok(html.includes("default-src 'none'"));
});

test('hostile text in the record is escaped everywhere', async () => {
  const evil = '<script>alert("pwn")</script><img src=x onerror=alert(1)>';
  const base = sampleRunRecord();
  const html = await renderHtmlReport(
    sampleRunRecord({
      id: evil,
      heistVersion: `"><script>1</script>`,
      target: { ...base.target, model: evil, url: `javascript:${evil}` },
      config: { ...base.config, strategy: evil, [evil]: evil },
      notes: [evil],
      references: [{ name: evil, points: [{ queries: 1000, value: 0.5 }] }],
      metrics: { ...base.metrics, [evil]: 1 },
    }),
  );
  assert.ok(!html.includes('<script'), 'no raw <script');
  assert.ok(!html.includes('<img'), 'no raw <img');
  assert.ok(!/onerror=alert/.test(html.replace(/&lt;img src=x onerror=alert\(1\)&gt;/g, '')), 'no live attribute');
  assert.ok(html.includes('&lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt;'));
  assert.match(html, /<title>Heist steal report: &lt;script&gt;/);
});

test('a run without per-round metrics or price still renders', async () => {
  const base = sampleRunRecord();
  const html = await renderHtmlReport(
    sampleRunRecord({
      rounds: [],
      metrics: {},
      config: { budget: 3000 },
      artifacts: {},
      notes: undefined,
      references: undefined,
    }),
  );
  assert.ok(html.includes('No per-round fidelity or accuracy was recorded.'));
  assert.ok(html.includes('No rounds were recorded.'));
  assert.ok(!html.includes('Cost per query'));
  assert.ok(!html.includes('<svg'));
  assert.equal(base.metrics.fidelity, 0.9187);
});

test('the attack class is named beside every class and its typical fidelity range', async () => {
  const html = await renderHtmlReport({
    ...sampleRunRecord(),
    attackClass: {
      name: 'functionally-equivalent',
      typicalFidelity: [0.9, 0.99],
      reason: 'probabilities, fidelity 0.9187 >= 0.90',
    },
  });
  assert.match(html, /<h2>Attack class<\/h2>/);
  assert.match(
    html,
    /This run is <strong>functionally-equivalent<\/strong> \(probabilities, fidelity 0\.9187 &gt;= 0\.90\)/,
  );
  for (const s of [
    '▶ functionally-equivalent',
    '0.90-0.99',
    'task-accuracy',
    '0.80-0.95',
    'approximation',
    '0.70-0.90',
  ])
    assert.ok(html.includes(s), `missing ${s}`);
  assert.doesNotMatch(await renderHtmlReport(sampleRunRecord()), /Attack class/);
});
