import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { batchDimModel } from '../../src/models/convert/batch-dim.js';
import { convertInWorker } from '../../src/models/store/convert-in-worker.js';
import { GraphBuilder } from '../kit/onnx.js';

const { onnx } = onnxProto;

/**
 * The shape of faceplugin's exports: input [1,2,2,2], a conv, a channel shuffle through a
 * Constant-node Reshape target [1,2,1,2,2], a flatten through an initializer target [1,-1], an
 * initializer also listed as a graph input (IR 3 style) and a value_info that records the batch of 1.
 */
function fixedBatchModel(opts: { allowzero?: boolean; sharedTarget?: boolean } = {}): Uint8Array {
  const g = new GraphBuilder('fixed-batch');
  g.input('input', 'float32', [1, 2, 2, 2]);
  const w = g.initializer('w', [2, 2, 1, 1], new Float32Array([1, 2, 3, 4]));
  const conv = g.op('Conv', ['input', w], { kernel_shape: [1, 1] });
  const shuffled = g.op('Reshape', [conv, 'shuffle_shape'], opts.allowzero ? { allowzero: 1 } : {});
  const flatShape = g.initializer('flat_shape', [2], new BigInt64Array([1n, -1n]));
  g.op('Reshape', [shuffled, flatShape], {}, 'output');
  if (opts.sharedTarget) g.op('Identity', [flatShape], {}, 'echo');
  g.output('output', 'float32', [1, 8]);
  const model = g.toModel();
  const graph = model.graph!;
  graph.node!.unshift({
    opType: 'Constant',
    output: ['shuffle_shape'],
    attribute: [{
      name: 'value',
      type: onnx.AttributeProto.AttributeType.TENSOR,
      t: { dims: [5], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(new BigInt64Array([1n, 2n, 1n, 2n, 2n]).buffer) },
    }],
  });
  graph.input!.push({ name: 'w', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [2, 2, 1, 1].map((d) => ({ dimValue: d })) } } } });
  graph.valueInfo = [{ name: conv, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [1, 2, 2, 2].map((d) => ({ dimValue: d })) } } } }];
  return onnx.ModelProto.encode(model).finish();
}

async function run(bytes: Uint8Array, data: Float32Array, batch: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', data, [batch, 2, 2, 2]) });
  return out.output!.data as Float32Array;
}

test('a batch-1 model takes a batch of three and gives each item the output of its own run', async () => {
  const original = fixedBatchModel();
  const converted = batchDimModel(original);
  const items = [0, 1, 2].map((k) => Float32Array.from({ length: 8 }, (_, i) => (i + 1) * (k + 1) - k * 3));
  const singles = await Promise.all(items.map((item) => run(original, item, 1)));
  const batched = await run(converted, Float32Array.from(items.flatMap((item) => [...item])), 3);
  assert.equal(batched.length, 24);
  singles.forEach((single, k) => assert.deepEqual([...batched.subarray(k * 8, k * 8 + 8)], [...single], `item ${k}`));
  await assert.rejects(run(original, new Float32Array(24), 3), /dimension|shape/i);
});

test('the converted graph declares a symbolic batch and keeps initializers out of its inputs', () => {
  const graph = onnx.ModelProto.decode(batchDimModel(fixedBatchModel())).graph!;
  assert.deepEqual(graph.input!.map((i) => i.name), ['input']);
  for (const io of [...graph.input!, ...graph.output!]) assert.equal(io.type!.tensorType!.shape!.dim![0]!.dimParam, 'batch');
  assert.equal(graph.valueInfo!.length, 0);
});

test('reads a Reshape target stored as int64_data as well as raw_data', async () => {
  const model = onnx.ModelProto.decode(fixedBatchModel());
  const flat = model.graph!.initializer!.find((t) => t.name === 'flat_shape')!;
  flat.rawData = new Uint8Array(0);
  flat.int64Data = [1, -1];
  const original = onnx.ModelProto.encode(model).finish();
  const converted = onnx.ModelProto.decode(batchDimModel(original));
  const target = converted.graph!.initializer!.find((t) => t.name === 'flat_shape')!;
  assert.deepEqual([...new BigInt64Array(new Uint8Array(target.rawData!).buffer)], [0n, -1n]);
  const batched = await run(onnx.ModelProto.encode(converted).finish(), new Float32Array(24).fill(1), 3);
  assert.equal(batched.length, 24);
});

test('refuses what it cannot rewrite safely, naming why', () => {
  assert.throws(() => batchDimModel(fixedBatchModel({ allowzero: true })), /allowzero/);
  assert.throws(() => batchDimModel(fixedBatchModel({ sharedTarget: true })), /flat_shape is shared/);
  assert.throws(() => batchDimModel(onnx.ModelProto.encode({ irVersion: 7 }).finish()), /no graph/);
  const wide = new GraphBuilder('batch-of-2');
  wide.input('input', 'float32', [2, 3]);
  wide.op('Identity', ['input'], {}, 'output');
  wide.output('output', 'float32', [2, 3]);
  assert.throws(() => batchDimModel(wide.toBytes()), /leading dim of 2, not a batch of 1/);
});

test('the store runs it in a worker thread with the same bytes as inline', async () => {
  const original = fixedBatchModel();
  const inWorker = await convertInWorker('batch-dim', new Map([['m.onnx', original]]));
  assert.deepEqual(Buffer.from(inWorker), Buffer.from(batchDimModel(original)));
});
