import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { sha256File } from '../../src/models/store/hash.js';
import { realModelPath, realModelStore } from '../kit/real-models.js';

// Real network to the npm registry on the first run (~42 MiB); later runs reuse `.models/`.
test('isnet-general-small assembles from the real @imgly chunks, verifies, and loads in onnxruntime', async () => {
  const file = await realModelPath('isnet-general-small');
  const source = realModelStore().spec('isnet-general-small').source;
  assert.equal(source.kind, 'npm-chunks');
  assert.equal(await sha256File(file), source.kind === 'npm-chunks' ? source.sha256 : '');
  const session = await ort.InferenceSession.create(file);
  try {
    assert.deepEqual(session.inputNames, ['input']);
    assert.equal(session.outputNames[0], 'output');
  } finally {
    await session.release();
  }
});
