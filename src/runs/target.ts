/**
 * @file Resolves a --target argument to an Oracle: an http(s) URL goes through the wire format's
 * HTTP oracle; a path to an .onnx file is loaded locally with onnxruntime and queried in-process
 * (a *.tree.json decision tree in plain TS, answering leaf ids and incomplete queries).
 */
import { existsSync } from 'node:fs';
import { HeistError } from '../core/errors.js';
import { dirname, basename, resolve } from 'node:path';
import { loadOnnxModel } from '../backends/onnx-model.js';
import { loadTfjsModel } from '../backends/tfjs-model.js';
import { isTreeFile, loadTreeModel } from '../models/tree.js';
import { getWireFormat } from '../oracle/formats/index.js';
import { detectHttpOracle } from '../oracle/detect.js';
import { httpOracle } from '../oracle/http.js';
import { localOracle } from '../oracle/local.js';
import { isMappingFile, loadMappingFormat } from './mapping-file.js';
import type { Oracle } from '../oracle/types.js';

export interface ResolvedTarget {
  readonly oracle: Oracle;
  readonly kind: 'url' | 'file';
  readonly location: string;
  /** The wire format spoken (HTTP targets): the one given, or the one detected. */
  readonly format?: string;
}

export interface TargetOptions {
  /** Wire format of an HTTP target (registry key, default heist-v1) and its options. */
  readonly format?: string;
  readonly formatOptions?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
  /** Most rows per request (HTTP targets; the query client cuts calls to it). */
  readonly maxBatch?: number;
  /** Per-request timeout, ms (HTTP targets). */
  readonly timeoutMs?: number;
}

export async function resolveTarget(target: string, options: TargetOptions = {}): Promise<ResolvedTarget> {
  if (/^https?:\/\//i.test(target)) {
    const http = {
      headers: options.headers,
      fetch: options.fetch,
      maxBatch: options.maxBatch,
      timeoutMs: options.timeoutMs,
    };
    if (options.format === undefined) {
      // No --format: the first registered format whose info request the target answers (GETs only).
      const detected = await detectHttpOracle(target, http);
      return { oracle: detected.oracle, kind: 'url', location: target, format: detected.format };
    }
    const format = isMappingFile(options.format)
      ? loadMappingFormat(options.format)
      : getWireFormat(options.format, options.formatOptions ?? {});
    const oracle = await httpOracle(target, { ...http, format });
    return { oracle, kind: 'url', location: target, format: options.format };
  }
  if (!existsSync(target)) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `--target "${target}" is neither an http(s) URL nor an existing model file`,
    );
  }
  // A *.tree.json is a heist.tree/v1 decision tree; any other *.json a TF.js model.json; else ONNX.
  const model = isTreeFile(target)
    ? loadTreeModel(target)
    : /\.json$/i.test(target)
      ? await loadTfjsModel(target, { name: basename(dirname(resolve(target))) })
      : await loadOnnxModel(target);
  const oracle: Oracle = { ...localOracle(model), close: () => model.close() };
  return { oracle, kind: 'file', location: target };
}

/**
 * Whether the target computes its answers on this machine: a model file, or a URL on a loopback
 * address. Its inference then competes for the CPUs a fit needs.
 */
export function onThisMachine(target: Pick<ResolvedTarget, 'kind' | 'location'>): boolean {
  if (target.kind === 'file') return true;
  let host: string;
  try {
    host = new URL(target.location).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
