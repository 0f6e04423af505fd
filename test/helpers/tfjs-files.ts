/**
 * Writes a tfjs layers model to disk as model.json plus one weight shard, the way a web page or
 * tensorflowjs_converter ships it (tfjs-node, which would do it for us, cannot install here).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export async function saveLayersModel(
  model: tf.LayersModel,
  dir: string,
  shard = 'group1-shard1of1.bin',
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(dir, shard), Buffer.from(a.weightData as ArrayBuffer));
      const doc = {
        format: 'layers-model',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: [shard], weights: a.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(doc));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}
