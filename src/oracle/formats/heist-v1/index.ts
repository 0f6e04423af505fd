/**
 * @file heist-v1, the Heist gateway's own wire format, as one module: the attacker's half
 * (client.ts: URLs, request bodies, answer decoding) and the gateway's half (server.ts: one-pass
 * request decoding, pre-serialised answers, model descriptions), over one set of schemas (schema.ts).
 *   GET  {base}/v1/models                 -> {"models":[{"name",...}]} (or ["name", ...])
 *   GET  {base}/v1/models/{name}          -> {"name","inputShape","inputSize","classes","classNames"?,
 *                                             "output":"probs"|"label"|"logits"|"topk","domain":{min,max},"maxBatch",
 *                                             "missingValues"?}
 *   POST {base}/v1/models/{name}/predict  {"inputs": (number|null)[][], "output"?: "label"|"probabilities"}
 *                                         -> {"model","predictions":[{"label","probabilities"?|"logits"?,"leaf"?}]}
 *   errors: {"error":{"code","message"}} with a 4xx/5xx status.
 */
import { inputSize } from '../../../core/prediction.js';
import type { RemoteModelInfo, WireFormat, WireFormatEntry } from '../types.js';
import { type HeistV1Options, encodeBinaryPredict, heistV1Client, heistV1Options } from './client.js';
import { decodePredictRequest, describeModel, serializePredictResponse } from './server.js';

export const heistV1: WireFormat = {
  ...heistV1Client,
  encodeAnswer: (p, info) => serializePredictResponse(info.name, p),
  decodeRequest: (body, info) =>
    decodePredictRequest(body, {
      info,
      inputSize: inputSize(info),
      servedOutput: info.output,
      maxBatch: Number.MAX_SAFE_INTEGER,
      acceptsMissing: info.acceptsMissing,
    }).x,
  encodeInfo: (info) =>
    describeModel(info.name, {
      info,
      inputSize: inputSize(info),
      servedOutput: info.output,
      maxBatch: info.maxBatch ?? Number.MAX_SAFE_INTEGER,
      acceptsMissing: info.acceptsMissing,
    }),
};

/** The same format sending float32 request bodies (application/octet-stream) for bulk callers. */
const heistV1Binary: WireFormat = { ...heistV1, encodePredictBinary: encodeBinaryPredict };

/** The default: float32 bodies to servers whose model description offers them, JSON to the rest. */
const heistV1Offered: WireFormat = {
  ...heistV1,
  encodePredictBinary: (x, info) =>
    (info as RemoteModelInfo).acceptsBinary ? encodeBinaryPredict(x, info) : undefined,
};

export const heistV1Entry: WireFormatEntry<HeistV1Options> = {
  name: 'heist-v1',
  summary:
    "the Heist gateway's own JSON format: GET /v1/models/{name}, POST /v1/models/{name}/predict (float32 request bodies where the model offers them; binary=true always, binary=false never)",
  options: heistV1Options,
  create: (o) => (o.binary === true ? heistV1Binary : o.binary === false ? heistV1 : heistV1Offered),
};

export * from './schema.js';
export { BINARY_CONTENT_TYPE, OUTPUT_HEADER, decodeBinaryPredictRequest } from './binary.js';
export {
  type DecodeTarget,
  type PredictRequest,
  decodePredictRequest,
  describeModel,
  encodePredictResponse,
  serializePredictResponse,
} from './server.js';
