/**
 * @file localOracle: any Predictor (a loaded model file, a defended model, a test fixture) as an
 * Oracle, for offline experiments. Rows may come flat ([n, inputSize]) or shaped ([n, ...inputShape]);
 * the predictor always sees them shaped. A model that declares output 'label' answers label-only.
 */
import { HeistError } from '../core/errors.js';
import { type Prediction, type Predictor, inputSize, predictionRows, toLabelOnly } from '../core/prediction.js';
import { type Tensor, rowCount, rowSize } from '../core/tensor.js';
import { emptyPrediction } from './merge.js';
import type { Oracle, QueryOptions } from './types.js';

export function localOracle(predictor: Predictor): Oracle {
  const info = predictor.info;
  const size = inputSize(info);
  return {
    info,
    async query(x: Tensor, opts: QueryOptions = {}): Promise<Prediction> {
      opts.signal?.throwIfAborted();
      const n = rowCount(x);
      if (x.shape.length < 1 || (n > 0 && rowSize(x) !== size)) {
        throw new HeistError(
          'HEIST_ERR_SHAPE',
          `rows of shape [${x.shape.slice(1)}] do not fit ${info.name}'s input [${info.inputShape}]`,
        );
      }
      if (n === 0) return emptyPrediction(info);
      // NaN is a missing feature for models that accept one (trees); otherwise refused like Infinity.
      const ok = predictor.acceptsMissing ? (v: number) => Number.isFinite(v) || Number.isNaN(v) : Number.isFinite;
      if (!x.data.every(ok)) throw new HeistError('HEIST_ERR_NOT_FINITE', 'an input value is NaN or infinite');
      const shaped: Tensor = { data: x.data, shape: [n, ...info.inputShape] };
      const p = await predictor.predict(shaped);
      if (predictionRows(p) !== n) {
        throw new HeistError('HEIST_ERR_INTERNAL', `${info.name} answered ${predictionRows(p)} rows for ${n}`);
      }
      return info.output === 'label' && p.kind !== 'label' ? toLabelOnly(p) : p;
    },
  };
}
