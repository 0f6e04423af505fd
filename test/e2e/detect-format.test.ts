/**
 * @file Without --format, Heist finds the wire format itself, with GET requests only: the gateway
 * (heist-v1), a TF Serving server and a KServe v2 server are each recognised, no row is paid for
 * while probing, and the run record names the format it found. A foreign API that none of them
 * fits is refused with what each format saw.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type OnnxPredictor, loadOnnxModel } from '../../src/backends/onnx-model.js';
import { isHeistError } from '../../src/core/errors.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { detectHttpOracle } from '../../src/oracle/detect.js';
import { startGateway } from '../../src/runs/serve-run.js';
import { startKserveV2, startTfServing } from '../fixtures/protocol-servers.js';

let victim: OnnxPredictor;
before(async () => {
  victim = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
});
after(() => victim.close());

test('the gateway, TF Serving and KServe v2 are recognised from their info, with no paid row', async () => {
  const gw = await startGateway({ anonymous: true, models: [join(modelsDir, 'digits-mlp.onnx')], port: 0 });
  const tfs = await startTfServing('digits', victim);
  const ks = await startKserveV2('digits', victim);
  try {
    for (const [url, format] of [
      [`${gw.url}/v1/models/digits-mlp`, 'heist-v1'],
      [`${tfs.base}/v1/models/digits`, 'tf-serving'],
      [`${ks.base}/v2/models/digits`, 'kserve-v2'],
    ] as const) {
      const d = await detectHttpOracle(url);
      assert.equal(d.format, format, url);
      assert.deepEqual(d.oracle.info.inputShape, [64]);
      assert.equal(d.oracle.info.classes, 10);
    }
    assert.equal(tfs.stats.requests + ks.stats.requests, 0, 'probing bought nothing');
  } finally {
    await gw.close();
    await tfs.close();
    await ks.close();
  }
});

test('an API no format fits is refused, saying what each format saw', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"message":"nothing here"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await assert.rejects(
      detectHttpOracle(`http://127.0.0.1:${port}/v1/models/x`),
      (e: unknown) =>
        isHeistError(e, 'HEIST_ERR_BAD_CONFIG') &&
        /heist-v1: .*tf-serving: .*kserve-v2: the URL does not fit/.test(e.message),
    );
  } finally {
    server.close();
  }
});
