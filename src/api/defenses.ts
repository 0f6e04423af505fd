/**
 * @file `heist/defenses`: the defender's API. The defense registry and pipeline, a defended model
 * as a Predictor (to run Heist's attacks against a defense in-process), and the audit log the
 * gateway keeps (stores by URL scheme, hash-chained records, verification).
 */

// Stages by name, and the pipeline that runs them: admit -> infer -> inspect -> transform -> record.
export {
  defenses,
  createDefenses,
  defendPredictor,
  createPipeline,
  createContext,
  emptyPipeline,
  round,
  DefenseRejection,
  defensePhases,
  type DefendedPredictor,
  type DefendedPredictorOptions,
  type DefenseSpec,
  type Defense,
  type DefenseDeps,
  type DefenseEntry,
  type DefensePhase,
  type Pipeline,
  type QueryContext,
  type ClientIdentity,
  type Flag,
} from '../defenses/index.js';

// The audit log: stores by URL scheme.
export {
  auditStores,
  openAuditStore,
  type AuditRecord,
  type AuditRow,
  type StoredAuditRecord,
  type VerifyReport,
  type AuditFilter,
  type AuditStore,
  type AuditStoreEntry,
} from '../store/index.js';
