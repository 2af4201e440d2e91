import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, meanSigmoidModel, nearestUpscaleModel } from '../kit/onnx.js';

test('onnxruntime loads and runs a model built in the test', async () => {
  const session = await ort.InferenceSession.create(meanSigmoidModel().toBytes());
  assert.deepEqual(session.inputNames, ['input']);
  assert.deepEqual(session.outputNames, ['output']);
  const x = new Float32Array([0, 0, 3, 3, 0, 0, 3, 3, 0, 0, 3, 3]);
  const out = await session.run({ input: new ort.Tensor('float32', x, [1, 3, 2, 2]) });
  const y = out.output!.data as Float32Array;
  assert.deepEqual(out.output!.dims, [1, 1, 2, 2]);
  assert.ok(Math.abs(y[0]! - 0.5) < 1e-6);
  assert.ok(Math.abs(y[2]! - 1 / (1 + Math.exp(-3))) < 1e-6);
});

test('a nearest-neighbour ×4 model gives a [1,3,4H,4W] output of repeated pixels', async () => {
  const session = await ort.InferenceSession.create(nearestUpscaleModel(4).toBytes());
  const x = Float32Array.from({ length: 3 * 2 * 3 }, (_, i) => i);
  const out = await session.run({ data: new ort.Tensor('float32', x, [1, 3, 2, 3]) });
  assert.deepEqual(out.output!.dims, [1, 3, 8, 12]);
  const y = out.output!.data as Float32Array;
  assert.equal(y[0], 0);
  assert.equal(y[3], 0);
  assert.equal(y[4], 1);
  assert.equal(y[12 * 4], 3);
});

test('float attributes, int lists and DepthToSpace are written as ONNX expects', async () => {
  const g = new GraphBuilder('d2s');
  g.input('x', 'float32', [1, 4, 1, 1]);
  const a = g.op('LeakyRelu', ['x'], { alpha: { float: 0.5 } });
  g.op('DepthToSpace', [a], { blocksize: 2, mode: 'CRD' }, 'y');
  g.output('y', 'float32', [1, 1, 2, 2]);
  const session = await ort.InferenceSession.create(g.toBytes());
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, -2, 3, -4]), [1, 4, 1, 1]) });
  assert.deepEqual([...(out.y!.data as Float32Array)], [1, -1, 3, -2]);
});
