/**
 * onThisMachine: which targets answer with this machine's CPUs (runSteal then buys their evaluation
 * labels before the first fit instead of beside it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onThisMachine } from './target.js';

test('model files and loopback URLs are on this machine; other hosts are not', () => {
  const url = (location: string) => onThisMachine({ kind: 'url', location });
  assert.equal(onThisMachine({ kind: 'file', location: 'models/mnist-cnn.onnx' }), true);
  for (const u of [
    'http://127.0.0.1:8080/v1/models/m',
    'http://localhost/v1',
    'https://127.5.0.9/',
    'http://[::1]:9/x',
  ])
    assert.equal(url(u), true, u);
  for (const u of [
    'https://api.example.com/v1/models/m',
    'http://10.0.0.5:8080/',
    'http://127.example.com/',
    'http://[::2]/',
  ])
    assert.equal(url(u), false, u);
});
