/**
 * @file Which wire format an HTTP target speaks, when `--format` does not say: each registered
 * format that can describe a target (not a mapping file's static one), in registry order, whose URL
 * pattern fits, is asked for the model's info. The probes are GET requests only (at most two per
 * format: a model list and the info), never a paid row; the first format whose answer parses wins.
 * A network failure ends the search (the target is down, not foreign).
 */
import { HeistError, isHeistError } from '../core/errors.js';
import { getWireFormat, wireFormats } from './formats/index.js';
import { type HttpOracle, type HttpOracleOptions, httpOracle } from './http.js';

export interface DetectedTarget {
  readonly oracle: HttpOracle;
  readonly format: string;
  /** What each format tried said, in order. */
  readonly tried: readonly { readonly format: string; readonly outcome: string }[];
}

export async function detectHttpOracle(
  url: string,
  options: Omit<HttpOracleOptions, 'format'> = {},
): Promise<DetectedTarget> {
  const tried: { format: string; outcome: string }[] = [];
  for (const entry of wireFormats.entries()) {
    const name = entry.name;
    // A format that needs options to exist (a mapping file) cannot be guessed.
    if (!entry.options.safeParse({}).success) continue;
    const format = getWireFormat(name);
    if (format.capabilities.info === 'static') continue;
    try {
      format.parseTarget(url);
    } catch {
      tried.push({ format: name, outcome: 'the URL does not fit its pattern' });
      continue;
    }
    try {
      const oracle = await httpOracle(url, { ...options, format });
      tried.push({ format: name, outcome: 'answered its info request' });
      return { oracle, format: name, tried };
    } catch (e) {
      const network =
        isHeistError(e, 'HEIST_ERR_UPSTREAM') && (e.details as { network?: boolean } | undefined)?.network === true;
      if (!isHeistError(e, 'HEIST_ERR_UPSTREAM') || network) throw e;
      tried.push({ format: name, outcome: e.message });
    }
  }
  throw new HeistError(
    'HEIST_ERR_BAD_CONFIG',
    `no registered wire format fits ${url} (${tried.map((t) => `${t.format}: ${t.outcome}`).join('; ')}); pass --format NAME or a mapping file`,
    { details: { tried } },
  );
}
