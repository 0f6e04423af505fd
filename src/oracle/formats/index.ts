/** @file The wire-format registry: the key is the file (or folder) name and the format's name. */
import { Registry } from '../../core/registry.js';
import { heistV1Entry } from './heist-v1/index.js';
import { jsonMappingEntry } from './json-mapping.js';
import { kserveV2Entry } from './kserve-v2.js';
import { tfServingEntry } from './tf-serving.js';
import type { WireFormat, WireFormatEntry } from './types.js';

export type { RemoteModelInfo, Target, WireError, WireFormat, WireFormatEntry } from './types.js';
export { heistV1 } from './heist-v1/index.js';

export const wireFormats = new Registry<undefined, WireFormat, WireFormatEntry>('wire format', [
  heistV1Entry,
  tfServingEntry,
  kserveV2Entry,
  jsonMappingEntry,
]);

/** A fresh instance of the format (formats keep what they learn from a target's info), options validated. */
export function getWireFormat(name: string, options: unknown = {}): WireFormat {
  return wireFormats.create(name, options, undefined);
}
