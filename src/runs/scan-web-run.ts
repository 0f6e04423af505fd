/**
 * @file `heist scan-web URL`: models shipped to a web page. The page is loaded in real headless
 * Chromium (playwright-core driving the system's /usr/bin/chromium; never a downloaded browser);
 * every model artefact it fetches (TF.js model.json and its weight shards, .onnx, .tflite) is saved
 * with its URL, size and SHA-256; each TF.js model is saved as a loadable folder (model.json beside
 * its shards) and loaded, so Heist can serve, attack or compare it like any local model file
 * (`heist steal --target OUT/models/0/model.json`). The findings go to run.json (kind 'scan') and
 * report.html.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { z } from 'zod';
import { loadTfjsModel } from '../backends/tfjs-model.js';
import { HeistError } from '../core/errors.js';
import { type Clock, systemClock } from '../core/types.js';
import { RUN_SCHEMA, type RunRecord } from '../report/run-record.js';
import { runId, withFileReporters } from './run-parts.js';
import { heistVersion } from './version.js';

export const scanConfigSchema = z
  .object({
    url: z.string().regex(/^https?:\/\//i, 'scan-web needs an http(s) URL'),
    out: z.string().min(1),
    /** Extra time after the network is idle, for pages that load their model late (ms). */
    waitMs: z.number().int().min(0).max(120_000).default(500),
    /** Chromium to drive (default /usr/bin/chromium, or HEIST_CHROMIUM). */
    chromium: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().default(60_000),
  })
  .strict();

export interface ScanArtefact {
  readonly url: string;
  readonly kind: 'tfjs-model-json' | 'tfjs-weights' | 'onnx' | 'tflite';
  readonly bytes: number;
  readonly sha256: string;
  /** Where it was saved, relative to OUT. */
  readonly file: string;
}

export interface ScanModel {
  readonly kind: 'tfjs' | 'onnx' | 'tflite';
  readonly url: string;
  /** The loadable file, relative to OUT. */
  readonly file: string;
  readonly inputShape?: readonly number[];
  readonly classes?: number;
  readonly loadError?: string;
}

export interface ScanResult {
  readonly record: RunRecord;
  readonly artefacts: readonly ScanArtefact[];
  readonly models: readonly ScanModel[];
}

/** Which responses are model artefacts: by the path's name, as TF.js, ONNX and TFLite files are named. */
function kindOf(url: string): ScanArtefact['kind'] | undefined {
  const path = new URL(url).pathname.toLowerCase();
  if (path.endsWith('.onnx')) return 'onnx';
  if (path.endsWith('.tflite')) return 'tflite';
  if (path.endsWith('model.json')) return 'tfjs-model-json';
  if (path.endsWith('.bin') || /shard\d+of\d+/.test(path)) return 'tfjs-weights';
  return undefined;
}

export async function runScanWeb(input: unknown, hooks: { clock?: Clock } = {}): Promise<ScanResult> {
  const parsed = scanConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `invalid scan-web settings at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const c = parsed.data;
  const clock = hooks.clock ?? systemClock;
  const startedAt = new Date(clock.now());
  const outDir = resolve(c.out);
  const executablePath = c.chromium ?? process.env.HEIST_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `no Chromium at ${executablePath}: install Debian's chromium package, or pass --chromium PATH`,
    );
  }
  mkdirSync(join(outDir, 'artefacts'), { recursive: true });
  const fetched = new Map<string, { kind: ScanArtefact['kind']; body: Buffer }>();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage();
    const pending: Promise<void>[] = [];
    page.on('response', (res) => {
      const kind = kindOf(res.url());
      if (!kind || !res.ok()) return;
      pending.push(
        res.body().then(
          (body) => void fetched.set(res.url(), { kind, body }),
          () => undefined,
        ),
      );
    });
    await page.goto(c.url, { waitUntil: 'networkidle', timeout: c.timeoutMs });
    await page.waitForTimeout(c.waitMs);
    await Promise.all(pending);
  } finally {
    await browser.close();
  }

  const artefacts: ScanArtefact[] = [];
  let n = 0;
  for (const [url, { kind, body }] of fetched) {
    const file = join('artefacts', `${n++}-${basename(new URL(url).pathname) || 'artefact'}`);
    writeFileSync(join(outDir, file), body);
    artefacts.push({
      url,
      kind,
      bytes: body.byteLength,
      sha256: createHash('sha256').update(body).digest('hex'),
      file,
    });
  }

  // Each TF.js model.json becomes a folder holding it and its shards (resolved against its URL).
  const models: ScanModel[] = [];
  for (const a of artefacts.filter((x) => x.kind === 'tfjs-model-json')) {
    const dir = join('models', String(models.length));
    mkdirSync(join(outDir, dir), { recursive: true });
    const doc = JSON.parse(fetched.get(a.url)!.body.toString('utf8')) as { weightsManifest?: { paths: string[] }[] };
    let missing = '';
    for (const group of doc.weightsManifest ?? []) {
      group.paths = group.paths.map((p) => {
        const shard = fetched.get(new URL(p, a.url).href);
        if (!shard) missing ||= new URL(p, a.url).href;
        const name = basename(p);
        if (shard) writeFileSync(join(outDir, dir, name), shard.body);
        return name;
      });
    }
    const file = join(dir, 'model.json');
    writeFileSync(join(outDir, file), JSON.stringify(doc));
    if (missing) {
      models.push({ kind: 'tfjs', url: a.url, file, loadError: `the page never fetched the shard ${missing}` });
      continue;
    }
    try {
      const m = await loadTfjsModel(join(outDir, file), { name: `scanned-${models.length}` });
      models.push({ kind: 'tfjs', url: a.url, file, inputShape: m.info.inputShape, classes: m.info.classes });
      await m.close();
    } catch (e) {
      models.push({ kind: 'tfjs', url: a.url, file, loadError: (e as Error).message });
    }
  }
  for (const a of artefacts.filter((x) => x.kind === 'onnx' || x.kind === 'tflite'))
    models.push({ kind: a.kind as 'onnx' | 'tflite', url: a.url, file: a.file });

  const finishedAt = new Date(clock.now());
  const first = models.find((m) => m.inputShape && m.classes);
  const record: RunRecord = {
    schema: RUN_SCHEMA,
    id: runId('scan', startedAt, 0),
    kind: 'scan',
    heistVersion,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallMs: finishedAt.getTime() - startedAt.getTime(),
    seed: 0,
    config: { url: c.url, waitMs: c.waitMs },
    target: {
      url: c.url,
      model: first?.file ?? '(no loadable model found)',
      inputShape: [...(first?.inputShape ?? [1])],
      classes: first?.classes ?? 1,
      output: 'probs',
    },
    queries: { budget: 0, used: 0, cached: 0, eval: 0, total: 0 },
    rounds: [],
    metrics: {
      artefacts: artefacts.length,
      models: models.length,
      loadableModels: models.filter((m) => m.inputShape).length,
    },
    artifacts: { report: 'report.html' },
    findings: [...artefacts.map((a) => ({ ...a, type: 'artefact' })), ...models.map((m) => ({ ...m, type: 'model' }))],
    notes: [
      `${artefacts.length} model artefacts fetched by ${c.url} in headless Chromium`,
      ...models.map((m) =>
        m.loadError
          ? `${m.url}: saved as ${m.file}, not loadable: ${m.loadError}`
          : `${m.url}: saved as ${m.file}${m.inputShape ? ` (input [${m.inputShape.join(', ')}], ${m.classes} classes)` : ''}`,
      ),
    ],
  };
  for (const r of withFileReporters()) await r.onEnd(record, outDir);
  return { record, artefacts, models };
}
