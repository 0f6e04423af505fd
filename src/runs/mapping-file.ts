/**
 * @file `--format acme.mapping.yaml`: a heist.mapping/v1 document (YAML or JSON) read from disk and
 * built into the json-mapping wire format, so any JSON API is a target without code. Errors name the
 * file and the bad key; header values (with their resolved \${ENV} secrets) are never printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { HeistError, isHeistError } from '../core/errors.js';
import { getWireFormat } from '../oracle/formats/index.js';
import type { WireFormat } from '../oracle/formats/types.js';

export function isMappingFile(format: string): boolean {
  return /\.(ya?ml|json)$/i.test(format);
}

export function loadMappingFormat(file: string): WireFormat {
  if (!existsSync(file)) throw new HeistError('HEIST_ERR_BAD_CONFIG', `mapping file ${file} does not exist`);
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `mapping file ${file} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  try {
    return getWireFormat('json-mapping', doc);
  } catch (e) {
    if (isHeistError(e, 'HEIST_ERR_BAD_CONFIG'))
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `mapping file ${file}: ${e.message}`, { details: e.details });
    throw e;
  }
}
