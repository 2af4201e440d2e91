import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { widenFp16Model } from '../../src/models/convert/fp16-to-fp32.js';
import { convertInWorker } from '../../src/models/store/convert-in-worker.js';
import { halfPrecisionModel } from '../kit/onnx.js';

const { onnx } = onnxProto;

test('widens fp16 initializers exactly and turns casts to fp16 into casts to fp32', async () => {
  const widened = widenFp16Model(halfPrecisionModel());
  const model = onnx.ModelProto.decode(widened);
  assert.ok(model.graph!.initializer!.every((t) => t.dataType === onnx.TensorProto.DataType.FLOAT));
  const casts = model.graph!.node!.filter((n) => n.opType === 'Cast').map((n) => Number(n.attribute![0]!.i));
  assert.deepEqual(casts, [onnx.TensorProto.DataType.FLOAT, onnx.TensorProto.DataType.FLOAT]);
  const session = await ort.InferenceSession.create(widened);
  const out = await session.run({ input: new ort.Tensor('float32', new Float32Array([2, 4, 1024]), [1, 3]) });
  assert.deepEqual([...(out.output!.data as Float32Array)], [5, -3, 1]);
});

test('refuses a file that is not an ONNX model with a graph', () => {
  assert.throws(() => widenFp16Model(onnx.ModelProto.encode({ irVersion: 7 }).finish()), /no graph/);
});

test('the store runs a conversion in a worker thread: same bytes as inline, and its errors come back', async () => {
  const half = halfPrecisionModel();
  const inWorker = await convertInWorker('fp16-to-fp32', new Map([['m.onnx', half]]));
  assert.deepEqual(Buffer.from(inWorker), Buffer.from(widenFp16Model(half)));
  await assert.rejects(convertInWorker('fp16-to-fp32', new Map([['m.onnx', onnx.ModelProto.encode({ irVersion: 7 }).finish()]])), /no graph/);
  await assert.rejects(convertInWorker('ncnn', new Map([['x.param', new TextEncoder().encode('not ncnn')], ['x.bin', new Uint8Array(0)]])), /magic 7767517/);
});
