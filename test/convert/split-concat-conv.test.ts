import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { applyGraphPasses } from '../../src/models/convert/graph-passes.js';
import { splitConcatConv } from '../../src/models/convert/split-concat-conv.js';
import { GraphBuilder } from '../kit/onnx.js';

const { onnx } = onnxProto;

const seeded = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.5);

/**
 * ISNet's decoder pattern: a graph input through Relu (channels from its declared dim) and a
 * 1×1 Conv (channels from its weights), concatenated and read by a 3×3 Conv with bias.
 */
function decoderBlock(opts: { alsoOutputConcat?: boolean; untraceable?: boolean } = {}): GraphBuilder {
  const g = new GraphBuilder('decoder-block');
  g.input('a', 'float32', [1, 2, 5, 5]);
  g.input('b', 'float32', [1, 3, 5, 5]);
  const ra = opts.untraceable
    ? g.op('Reshape', ['a', g.initializer('same', [4], new BigInt64Array([1n, 2n, 5n, 5n]))])
    : g.op('Relu', ['a']);
  const cb = g.op('Conv', ['b', g.initializer('w1', [3, 3, 1, 1], seeded(9, 1))], { kernel_shape: [1, 1] });
  const cat = g.op('Concat', [ra, cb], { axis: 1 }, opts.alsoOutputConcat ? 'cat' : undefined);
  const conv = g.op('Conv', [cat, g.initializer('w', [4, 5, 3, 3], seeded(180, 2)), g.initializer('bias', [4], seeded(4, 3))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  g.op('Relu', [conv], {}, 'output');
  g.output('output', 'float32', [1, 4, 5, 5]);
  if (opts.alsoOutputConcat) g.output('cat', 'float32', [1, 5, 5, 5]);
  return g;
}

async function run(bytes: Uint8Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({
    a: new ort.Tensor('float32', seeded(50, 4), [1, 2, 5, 5]),
    b: new ort.Tensor('float32', seeded(75, 5), [1, 3, 5, 5]),
  });
  return out.output!.data as Float32Array;
}

test('a Conv over a channel Concat becomes a sum of Convs over its inputs, with the same result', async () => {
  const original = decoderBlock().toBytes();
  const rewritten = applyGraphPasses(original, [{ pass: 'split-concat-conv' }]);
  const graph = onnx.ModelProto.decode(rewritten).graph!;
  assert.deepEqual(graph.node!.map((n) => n.opType), ['Relu', 'Conv', 'Conv', 'Conv', 'Add', 'Relu']);
  assert.ok(!graph.initializer!.some((t) => t.name === 'w'), 'the unsplit weight is gone');
  assert.deepEqual(graph.initializer!.filter((t) => t.name!.startsWith('w_split')).map((t) => t.dims!.map(Number)), [[4, 2, 3, 3], [4, 3, 3, 3]]);
  const [want, got] = await Promise.all([run(original), run(rewritten)]);
  assert.equal(got.length, 100);
  assert.ok(want.some((v) => v > 0), 'the block computes something');
  want.forEach((v, i) => assert.ok(Math.abs(v - got[i]!) < 1e-5, `element ${i}: ${v} vs ${got[i]}`));
});

test('leaves a Concat alone when another node reads it or an input\'s channels cannot be traced', () => {
  for (const opts of [{ alsoOutputConcat: true }, { untraceable: true }]) {
    const graph = onnx.ModelProto.decode(decoderBlock(opts).toBytes()).graph!;
    assert.equal(splitConcatConv(graph), 0, JSON.stringify(opts));
    assert.ok(graph.node!.some((n) => n.opType === 'Concat'));
  }
});

test('passes run in order on one decode: keep-outputs first drops the other reader, then the split applies', async () => {
  const original = decoderBlock({ alsoOutputConcat: true }).toBytes();
  const rewritten = applyGraphPasses(original, [{ pass: 'keep-outputs', outputs: ['output'] }, { pass: 'split-concat-conv' }]);
  const graph = onnx.ModelProto.decode(rewritten).graph!;
  assert.deepEqual(graph.output!.map((o) => o.name), ['output']);
  assert.ok(!graph.node!.some((n) => n.opType === 'Concat'));
  const [want, got] = await Promise.all([run(original), run(rewritten)]);
  want.forEach((v, i) => assert.ok(Math.abs(v - got[i]!) < 1e-5, `element ${i}`));
});
