/**
 * onThisMachine: which targets answer with this machine's CPUs (runSteal then buys their evaluation
 * labels before the first fit instead of beside it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onThisMachine } from './target.js';

test('model files and loopback URLs are on this machine; other hosts are not', () => {
  assert.equal(onThisMachine({ kind: 'file', location: 'models/mnist-cnn.onnx' }), true);
  const urls: [string, boolean][] = [
    ['http://127.0.0.1:8080/v1/models/m', true],
    ['http://localhost/v1', true],
    ['https://127.5.0.9/', true],
    ['http://[::1]:9/x', true],
    ['https://api.example.com/v1/models/m', false],
    ['http://10.0.0.5:8080/', false],
    ['http://127.example.com/', false],
    ['http://[::2]/', false],
  ];
  for (const [location, local] of urls) assert.equal(onThisMachine({ kind: 'url', location }), local, location);
});
