/** @file The wire-format registry: the key is the file name and the --format value. */
import { HeistError } from '../../core/errors.js';
import { heistV1 } from './heist-v1.js';
import type { WireFormat } from './types.js';

export type { RemoteModelInfo, Target, WireError, WireFormat } from './types.js';
export { heistV1 } from './heist-v1.js';

export const wireFormats: Readonly<Record<string, WireFormat>> = {
  'heist-v1': heistV1,
};

export function getWireFormat(name: string): WireFormat {
  const f = wireFormats[name];
  if (!f) throw new HeistError('HEIST_ERR_BAD_CONFIG', `unknown wire format '${name}' (known: ${Object.keys(wireFormats).join(', ')})`);
  return f;
}
