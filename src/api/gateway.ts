/**
 * @file `heist/gateway`: serve models behind the defended gateway, from code. startGateway is what
 * `heist serve` runs; buildGateway returns the fastify app without listening (for tests and
 * embedding). The wire formats are the gateway's and the attacker's common language.
 */
export { startGateway, type RunningGateway, type ServeOptions } from '../runs/serve-run.js';
export { buildGateway, type GatewayConfig, type GatewayExtras } from '../gateway/server.js';
export {
  wireFormats,
  getWireFormat,
  heistV1,
  type RemoteModelInfo,
  type WireFormat,
  type WireFormatEntry,
} from '../oracle/formats/index.js';
export {
  decodePredictRequest,
  describeModel,
  serializePredictResponse,
  type ModelDescription,
  type PredictResponse,
} from '../oracle/formats/heist-v1/index.js';
