/**
 * @file The served-model table: everything a request needs about a model, computed once at startup
 * (served name, flattened input size, served output kind, pipeline, description).
 */
import { HeistError } from '../core/errors.js';
import { type ModelInfo, type OutputKind, type Predictor, inputSize } from '../core/prediction.js';
import { type Pipeline, emptyPipeline } from '../defenses/pipeline.js';
import type { DomainPolicy } from './input-domain.js';
import { type DecodeTarget, type ModelDescription, describeModel } from '../oracle/formats/heist-v1/index.js';

export interface ServedModel extends DecodeTarget {
  readonly name: string;
  readonly predictor: Predictor;
  readonly pipeline: Pipeline;
  readonly description: ModelDescription;
  readonly inputDomain: DomainPolicy;
}

export type ModelTable = ReadonlyMap<string, ServedModel>;

export function buildModelTable(
  models: readonly { name: string; predictor: Predictor; pipeline?: Pipeline; inputDomain?: DomainPolicy }[],
  maxBatch: number,
): ModelTable {
  const table = new Map<string, ServedModel>();
  for (const m of models) {
    if (table.has(m.name)) throw new HeistError('HEIST_ERR_BAD_CONFIG', `duplicate model name "${m.name}"`);
    const src = m.predictor.info;
    const info: ModelInfo = { ...src, name: m.name, inputShape: [...src.inputShape] };
    const pipeline = m.pipeline ?? emptyPipeline();
    const servedOutput: OutputKind = pipeline.dropsScores ? 'label' : info.output;
    const target: DecodeTarget = {
      info,
      inputSize: inputSize(info),
      servedOutput,
      maxBatch,
      ...(m.predictor.acceptsMissing ? { acceptsMissing: true } : {}),
    };
    table.set(m.name, {
      ...target,
      name: m.name,
      predictor: m.predictor,
      pipeline,
      // The gateway's body parsers take float32 rows (body-parsers.ts): clients may send them.
      description: { ...describeModel(m.name, target), binaryInputs: true },
      inputDomain: m.inputDomain ?? 'reject',
    });
  }
  return table;
}
