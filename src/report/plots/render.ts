/**
 * @file Vega-Lite spec -> SVG string, in Node, with vega's headless 'none' renderer: no browser,
 * no canvas. Text is measured by vega's built-in estimate when no canvas is present, so labels
 * may be slightly mis-sized; the SVG is still valid. Vega's log output is captured, never printed.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { HeistError } from '../../core/errors.js';

export interface RenderOptions {
  /** Receives vega / vega-lite warnings (default: dropped). */
  readonly onWarn?: (message: string) => void;
}

function captureLogger(onWarn: (message: string) => void): ReturnType<typeof vega.logger> {
  return vega.logger(vega.Warn, undefined, (_method, _level, args) => {
    onWarn(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  });
}

/** Render a Vega-Lite spec to a standalone SVG string (starts with `<svg`). */
export async function renderSvg(spec: TopLevelSpec, opts: RenderOptions = {}): Promise<string> {
  const onWarn = opts.onWarn ?? (() => {});
  let view: vega.View | undefined;
  try {
    const compiled = compile(spec, { logger: captureLogger(onWarn) }).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none', logger: captureLogger(onWarn) });
    const svg = await view.toSVG();
    if (!svg.startsWith('<svg')) throw new Error('vega returned something that is not SVG');
    return svg;
  } catch (cause) {
    throw new HeistError('HEIST_ERR_INTERNAL', `plot rendering failed: ${(cause as Error).message}`, { cause });
  } finally {
    view?.finalize();
  }
}
