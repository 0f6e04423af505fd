/**
 * @file `heist`: the public library API. Heist ships TypeScript with no build step; run code that
 * imports it with `node --import tsx` (tsx is one of Heist's dependencies), as `npx heist` does.
 * Subpaths: `heist/attacks`, `heist/defenses`, `heist/gateway` (all re-exported here too).
 */

// Vocabulary: tensors, predictions, data sets, the seeded Rng, errors, and the registry type.
export {
  type Tensor,
  tensor,
  rowCount,
  rowSize,
  takeRows,
  concatRows,
  argmaxRows,
  softmaxRows,
} from './core/tensor.js';
export {
  type Prediction,
  type ModelInfo,
  type Predictor,
  type OutputKind,
  type InputDomain,
  inputSize,
  probsPrediction,
  labelPrediction,
  toLabelOnly,
} from './core/prediction.js';
export { type Dataset, subset } from './core/dataset.js';
export { type Rng, createRng } from './core/rng.js';
export { HeistError, isHeistError, errorCatalog, type HeistErrorCode } from './core/errors.js';
export { Registry, type RegistryEntry, type OptionsSchema } from './core/registry.js';

// Models: ONNX files (onnxruntime), decision trees, softmax regression, framework-free networks.
export { loadOnnxModel, type OnnxPredictor } from './backends/onnx-model.js';
export { networkToOnnx } from './backends/onnx-writer.js';
export { loadTreeModel, saveTreeModel, treeModel, type TreeModel } from './models/tree.js';
export { linearModel, randomLinearModel, type LinearModel } from './models/linear.js';
export { networkPredictor } from './models/network.js';
export type { NetworkSpec, LayerSpec } from './models/network-spec.js';

// Reaching a target: an in-process model or an HTTP API, through the paid query client.
export { localOracle } from './oracle/local.js';
export { httpOracle, type HttpOracle, type HttpOracleOptions } from './oracle/http.js';
export type { Oracle, QueryOptions, QueryPurpose } from './oracle/types.js';
export { createQueryClient } from './query/client.js';
export type { QueryClient, QueryClientOptions, Budget } from './query/types.js';

// The shipped data sets and the standard scenarios (docs/scenarios.md).
export { loadDataset, datasets } from './datasets/registry.js';
export { scenarios, getScenario, loadScenarioData, type Scenario } from './datasets/scenarios.js';

// Run records and reports.
export {
  reporters,
  createReporters,
  renderReport,
  readRunRecord,
  type Reporter,
  type ReporterEntry,
  type RunRecord,
} from './report/index.js';

export * from './api/attacks.js';
export * from './api/defenses.js';
export * from './api/gateway.js';
