import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseManifest } from '../../src/models/manifest.js';
import { ModelStore } from '../../src/models/store/model-store.js';
import { tempDir } from '../kit/onnx.js';

const manifest = parseManifest({
  version: 1,
  models: [{
    id: 'exported', task: 'test', family: 'style', zone: 'flexible', priority: 10, default: false, license: 'MIT', memoryMB: 8,
    description: 'an operator export',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1], layout: 'NCHW', color: 'RGB', normalize: { scale: 1, mean: 0, std: 1 } }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
    source: { kind: 'local', file: 'exported.onnx', export: 'export it from the training repository with torch.onnx.export.' },
  }],
});

test('a local source cannot be pulled: the error says how to export it and where to put it; a placed file is then verified on first use', async () => {
  const modelDir = tempDir();
  const store = new ModelStore({ modelDir, manifest, logger: pino({ level: 'silent' }), downloadTimeoutMs: 1000 });
  await assert.rejects(store.ensure('exported'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'MODEL_UNAVAILABLE');
    assert.match(err.message, /has no public download: export it from the training repository/);
    assert.ok(err.message.includes(path.join(modelDir, 'exported.onnx')), err.message);
    return true;
  });
  fs.writeFileSync(path.join(modelDir, 'exported.onnx'), 'weights');
  assert.equal(await store.ensure('exported'), path.join(modelDir, 'exported.onnx'));
  fs.writeFileSync(path.join(modelDir, 'exported.onnx'), 'other weights');
  assert.equal((await store.verify('exported')).ok, false, 'the first file placed is the one trusted');
});
