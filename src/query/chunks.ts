/**
 * @file How a layer above the splitter learns about each completed upstream call (RowsSink in
 * types.ts): it passes its own sink down, chained to the one it was given. When nothing below
 * splits and reports, the whole answer is reported once on success.
 */
import type { Prediction } from '../core/prediction.js';
import type { Tensor } from '../core/tensor.js';
import type { Oracle } from '../oracle/types.js';
import type { LayerQueryOptions, RowsSink } from './types.js';

export async function queryReporting(
  inner: Oracle,
  x: Tensor,
  opts: LayerQueryOptions,
  sink: RowsSink,
): Promise<Prediction> {
  let reported = false;
  const parent = opts.onRows;
  const onRows: RowsSink = (offset, xs, answer) => {
    reported = true;
    try {
      sink(offset, xs, answer);
    } finally {
      parent?.(offset, xs, answer);
    }
  };
  const lower: LayerQueryOptions = { purpose: opts.purpose, signal: opts.signal, onRows };
  const answer = await inner.query(x, lower);
  if (!reported) onRows(0, x, answer);
  return answer;
}
