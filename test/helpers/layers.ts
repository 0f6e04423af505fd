/**
 * @file The import graph of src/ and the rules test/architecture.test.ts checks on it: the layer of
 * a file is its folder's row in docs/layers.json (files directly in src/ belong to 'api').
 */
import { dirname, join } from 'node:path';

export interface SourceFile {
  /** Relative to the repository root, e.g. src/core/rng.ts. */
  readonly path: string;
  readonly text: string;
}

export interface LayerRow {
  readonly layer: number;
  readonly folder: string;
  readonly job: string;
}

export interface ImportGraph {
  /** File -> the files it imports (type-only imports and re-exports included). */
  readonly files: ReadonlyMap<string, readonly string[]>;
  /** Folder -> the other folders it imports. */
  readonly folders: ReadonlyMap<string, readonly string[]>;
}

const SPECIFIER = /(?:\bfrom|^\s*import|\bimport\s*\()\s*'(\.{1,2}\/[^']+)'/gm;

export function folderOf(path: string): string {
  const parts = path.split('/');
  return parts.length === 2 ? 'api' : parts[1];
}

export function importGraph(files: readonly SourceFile[]): ImportGraph {
  const known = new Set(files.map((f) => f.path));
  const fileEdges = new Map<string, string[]>();
  const folderEdges = new Map<string, Set<string>>();
  for (const f of files) {
    const out: string[] = [];
    for (const m of f.text.matchAll(SPECIFIER)) {
      const target = join(dirname(f.path), m[1]).replace(/\.js$/, '.ts');
      if (!known.has(target)) continue;
      out.push(target);
      const [from, to] = [folderOf(f.path), folderOf(target)];
      if (from !== to) folderEdges.set(from, (folderEdges.get(from) ?? new Set()).add(to));
    }
    fileEdges.set(f.path, [...new Set(out)]);
  }
  return { files: fileEdges, folders: new Map([...folderEdges].map(([k, v]) => [k, [...v]])) };
}

/** 'a -> b (why)' for every import that runs up a layer or crosses attacks/ and defenses/. */
export function layerViolations(graph: ImportGraph, layers: readonly LayerRow[]): string[] {
  const layerOf = new Map(layers.map((l) => [l.folder, l.layer]));
  const out: string[] = [];
  for (const [from, targets] of graph.files) {
    for (const to of targets) {
      const [a, b] = [folderOf(from), folderOf(to)];
      const [la, lb] = [layerOf.get(a), layerOf.get(b)];
      if (la === undefined || lb === undefined) out.push(`${from} -> ${to} (folder without a layer)`);
      else if (lb > la) out.push(`${from} -> ${to} (layer ${la} imports layer ${lb})`);
      else if ((a === 'attacks' && b === 'defenses') || (a === 'defenses' && b === 'attacks')) {
        out.push(`${from} -> ${to} (attacks/ and defenses/ never import each other)`);
      }
    }
  }
  return out;
}

/** Every elementary circle found by depth-first search, each as 'a -> b -> a' (one per back edge). */
export function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

/** The markdown table docs/architecture.md shows between its layers:begin/end markers. */
export function renderLayerTable(layers: readonly LayerRow[]): string {
  const rows = layers.map(
    (l) => `| L${l.layer} | \`src/${l.folder === 'api' ? 'api/` + `src/index.ts' : `${l.folder}/`}\` | ${l.job} |`,
  );
  return ['| layer | folder | job |', '|---|---|---|', ...rows, ''].join('\n');
}
