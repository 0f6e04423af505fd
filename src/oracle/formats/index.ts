/** @file The wire-format registry: the key is the file (or folder) name and the format's name. */
import { Registry } from '../../core/registry.js';
import { heistV1Entry } from './heist-v1/index.js';
import type { WireFormat, WireFormatEntry } from './types.js';

export type { RemoteModelInfo, Target, WireError, WireFormat, WireFormatEntry } from './types.js';
export { heistV1 } from './heist-v1/index.js';

export const wireFormats = new Registry<undefined, WireFormat, WireFormatEntry>('wire format', [heistV1Entry]);

export function getWireFormat(name: string): WireFormat {
  return wireFormats.create(name, {}, undefined);
}
