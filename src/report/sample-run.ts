/**
 * @file A small, valid `heist.run/v1` record for tests, docs and the dashboard's empty state.
 * Deterministic (fixed timestamps and numbers); pass overrides to vary it.
 */
import type { RunRecord } from './run-record.js';

export function sampleRunRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    schema: 'heist.run/v1',
    id: 'run-20250101-000000-42',
    kind: 'steal',
    heistVersion: '0.1.0',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:01:23.400Z',
    wallMs: 83_400,
    seed: 42,
    config: {
      target: 'http://127.0.0.1:8080/v1/models/mnist/predict',
      budget: 3000,
      strategy: 'natural-pool',
      pool: 'fixtures/pool.npy',
      arch: 'mlp',
      labels: 'soft',
      targetFidelity: 0.9,
      pricePerQuery: 0.002,
      currency: 'USD',
    },
    target: {
      url: 'http://127.0.0.1:8080/v1/models/mnist/predict',
      model: 'mnist',
      inputShape: [28, 28, 1],
      classes: 10,
      output: 'probs',
    },
    queries: { budget: 3000, used: 3000, cached: 17, eval: 500, total: 3500 },
    rounds: [
      {
        round: 0,
        queriesUsed: 1000,
        labeledRows: 1000,
        metrics: { fidelity: 0.6123, accuracy: 0.5987 },
        fitMs: 4100,
        wallMs: 9800,
      },
      {
        round: 1,
        queriesUsed: 2000,
        labeledRows: 2000,
        metrics: { fidelity: 0.8234, accuracy: 0.8011 },
        fitMs: 8200,
        wallMs: 21_000,
      },
      {
        round: 2,
        queriesUsed: 3000,
        labeledRows: 3000,
        metrics: { fidelity: 0.9187, accuracy: 0.8876 },
        fitMs: 12_300,
        wallMs: 52_600,
      },
    ],
    metrics: { fidelity: 0.9187, accuracy: 0.8876, agreementKl: 0.0421 },
    artifacts: { substitute: 'substitute.onnx', transcript: 'transcript.jsonl', report: 'report.html' },
    notes: ['evaluation used 500 paid queries from a separate eval budget'],
    ...overrides,
  };
}
