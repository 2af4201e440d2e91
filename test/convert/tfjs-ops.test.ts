import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convertTfjsToOnnx, TfjsFormatError } from '../../src/models/convert/tfjs/convert.js';
import { values } from '../kit/numbers.js';
import * as R from './tf-reference.js';
import { attr, convertAndRun, nhwc, opCounts, TfjsGraph } from './tfjs-kit.js';

const rand = (shape: number[], seed: number, lo = -1, hi = 1) => R.tensor(shape, values(shape.reduce((a, b) => a * b, 1), seed, lo, hi));
const ints = (shape: number[], data: number[]) => R.tensor(shape, data, true);

function assertClose(got: R.Tensor | undefined, want: R.Tensor, tol = 1e-5): void {
  assert.ok(got, 'the output is missing');
  assert.deepEqual(got.shape, want.shape, 'shape');
  const err = R.relativeError(got.data, want.data);
  assert.ok(err <= tol, `relative error ${err}`);
}

/** One-op graph `y = op(x, consts…)`, converted and run on x. */
async function single(op: string, x: R.Tensor, consts: { name: string; t: R.Tensor; int?: boolean; quant?: 'float16' | 'uint8' }[], attrs: Record<string, unknown> = {}) {
  const g = new TfjsGraph();
  g.input('x', x.shape, x.data instanceof Int32Array ? 'DT_INT32' : 'DT_FLOAT');
  for (const c of consts) g.const(c.name, c.t.shape, c.t.data, { int: c.int ?? c.t.data instanceof Int32Array, ...(c.quant ? { quant: c.quant } : {}) });
  g.op(op, 'y', ['x', ...consts.map((c) => c.name)], attrs);
  return (await convertAndRun(g, ['y'], { x })).y!;
}

describe('TF.js graph → ONNX, op by op against TF semantics', () => {
  test('Conv2D SAME with stride 2 on an odd size pads the odd pixel after (bottom/right), as TF does', async () => {
    const x = rand([1, 7, 9, 3], 1);
    const f = rand([3, 3, 3, 4], 2);
    const got = await single('Conv2D', x, [{ name: 'f', t: f }], nhwc('SAME', [2, 2]));
    assertClose(got, R.conv2d(x, f, { padding: 'SAME', strides: [2, 2] }));
  });

  test('Conv2D VALID with dilation 2, float16 weights widened exactly', async () => {
    const x = rand([1, 9, 8, 2], 3);
    const f = rand([3, 3, 2, 5], 4);
    const got = await single('Conv2D', x, [{ name: 'f', t: f, quant: 'float16' }], nhwc('VALID', [1, 1], [2, 2]));
    assertClose(got, R.conv2d(x, f, { padding: 'VALID', dilations: [2, 2] }));
  });

  test('uint8-quantised weights dequantise as q · scale + min', async () => {
    const x = rand([1, 5, 5, 2], 5);
    const f = rand([1, 1, 2, 3], 6);
    const got = await single('Conv2D', x, [{ name: 'f', t: f, quant: 'uint8' }], nhwc('VALID'));
    const min = Math.min(...f.data);
    const scale = (Math.max(...f.data) - min) / 255;
    const dequantised = R.map(f, (v) => Math.round((v - min) / scale) * scale + min);
    assertClose(got, R.conv2d(x, dequantised, { padding: 'VALID' }));
  });

  test('DepthwiseConv2dNative with channel multiplier 2 orders output channels c·M + m, SAME, stride 2', async () => {
    const x = rand([1, 6, 7, 3], 7);
    const f = rand([3, 3, 3, 2], 8);
    const got = await single('DepthwiseConv2dNative', x, [{ name: 'f', t: f }], nhwc('SAME', [2, 2]));
    assertClose(got, R.depthwiseConv2d(x, f, { padding: 'SAME', strides: [2, 2] }));
  });

  test('_FusedConv2D [BiasAdd, Relu] and FusedDepthwiseConv2dNative [BiasAdd] apply bias then the activation', async () => {
    const x = rand([1, 5, 6, 2], 9);
    const f = rand([3, 3, 2, 3], 10);
    const bias = rand([3], 11);
    const fusedAttrs = { ...nhwc('SAME'), fused_ops: attr.strs(['BiasAdd', 'Relu']), num_args: attr.i(1) };
    const got = await single('_FusedConv2D', x, [{ name: 'f', t: f }, { name: 'b', t: bias }], fusedAttrs);
    assertClose(got, R.map(R.binary(R.conv2d(x, f, { padding: 'SAME' }), bias, (a, b) => a + b), (v) => Math.max(v, 0)));
    const df = rand([3, 3, 2, 1], 12);
    const db = rand([2], 13);
    const got2 = await single('FusedDepthwiseConv2dNative', x, [{ name: 'f', t: df }, { name: 'b', t: db }], { ...nhwc('SAME', [2, 2]), fused_ops: attr.strs(['BiasAdd']), num_args: attr.i(1) });
    assertClose(got2, R.binary(R.depthwiseConv2d(x, df, { padding: 'SAME', strides: [2, 2] }), db, (a, b) => a + b));
  });

  test('_FusedConv2D [FusedBatchNorm, Relu6] folds scale, offset, mean and variance into the conv', async () => {
    const x = rand([1, 4, 4, 2], 14);
    const f = rand([1, 1, 2, 2], 15);
    const [scale, offset, mean, variance] = [R.tensor([2], [1.5, 0.5]), R.tensor([2], [0.25, -1]), R.tensor([2], [0.1, -0.2]), R.tensor([2], [0.5, 2])];
    const consts = [{ name: 'f', t: f }, { name: 's', t: scale }, { name: 'o', t: offset }, { name: 'm', t: mean }, { name: 'v', t: variance }];
    const got = await single('_FusedConv2D', x, consts, { ...nhwc('VALID'), fused_ops: attr.strs(['FusedBatchNorm', 'Relu6']), num_args: attr.i(4), epsilon: attr.f(0.001) });
    const y = R.conv2d(x, f, { padding: 'VALID' });
    const want = R.tensor(y.shape, Array.from(y.data, (v, i) => {
      const c = i % 2;
      const norm = (v - mean.data[c]!) / Math.sqrt(variance.data[c]! + 0.001) * scale.data[c]! + offset.data[c]!;
      return Math.min(Math.max(norm, 0), 6);
    }));
    assertClose(got, want);
  });

  test('Conv2DBackpropInput SAME, stride 2, to an odd output size (7 from 4) is the conv gradient', async () => {
    const dy = rand([1, 4, 4, 3], 16);
    const f = rand([3, 3, 2, 3], 17);
    const g = new TfjsGraph();
    g.input('dy', dy.shape);
    g.const('sizes', [4], [1, 7, 7, 2], { int: true });
    g.const('f', f.shape, f.data);
    g.op('Conv2DBackpropInput', 'y', ['sizes', 'f', 'dy'], nhwc('SAME', [2, 2]));
    const { y } = await convertAndRun(g, ['y'], { dy });
    assertClose(y, R.conv2dTranspose(dy, f, [1, 7, 7, 2], { padding: 'SAME', strides: [2, 2] }));
  });

  test('MaxPool SAME ignores the padding; AvgPool SAME averages real pixels only', async () => {
    const x = rand([1, 7, 6, 2], 18, -3, -1);
    const poolAttrs = { ...nhwc('SAME', [2, 2]), ksize: attr.ints([1, 3, 3, 1]) };
    assertClose(await single('MaxPool', x, [], poolAttrs), R.pool(x, [3, 3], { padding: 'SAME', strides: [2, 2] }, 'max'));
    assertClose(await single('AvgPool', x, [], poolAttrs), R.pool(x, [3, 3], { padding: 'SAME', strides: [2, 2] }, 'avg'));
    assertClose(await single('AvgPool', x, [], { ...nhwc('VALID', [2, 2]), ksize: attr.ints([1, 2, 2, 1]) }), R.pool(x, [2, 2], { padding: 'VALID', strides: [2, 2] }, 'avg'));
  });

  for (const [alignCorners, halfPixel, name] of [[false, false, 'legacy i·in/out'], [true, false, 'align_corners'], [false, true, 'half_pixel_centers']] as const) {
    test(`ResizeBilinear ${name}: up 5→7 and down 9→4 sample where TF samples`, async () => {
      const x = rand([1, 5, 9, 2], 19);
      const flags = { align_corners: attr.b(alignCorners), half_pixel_centers: attr.b(halfPixel) };
      const g = new TfjsGraph();
      g.input('x', x.shape);
      g.const('size', [2], [7, 4], { int: true });
      g.op('ResizeBilinear', 'y', ['x', 'size'], flags);
      const { y } = await convertAndRun(g, ['y'], { x });
      assertClose(y, R.resizeBilinear(x, 7, 4, alignCorners, halfPixel));
    });
  }

  test('FloorDiv and FloorMod round toward −∞ on negative int32 and float operands', async () => {
    const a = ints([6], [-7, 7, -7, 7, -1, 0]);
    const b = ints([6], [2, -2, -2, 2, 3, 5]);
    const div = await single('FloorDiv', a, [{ name: 'b', t: b }]);
    const mod = await single('FloorMod', a, [{ name: 'b', t: b }]);
    assert.deepEqual(Array.from(div.data), [-4, -4, 3, 3, -1, 0]);
    assert.deepEqual(Array.from(mod.data), [1, -1, -1, 1, 2, 0]);
    assert.ok(div.data instanceof Int32Array);
    const fa = R.tensor([3], [-7.5, 7.5, -0.5]);
    const fb = R.tensor([3], [2, -2, 4]);
    assert.deepEqual(Array.from((await single('FloorDiv', fa, [{ name: 'b', t: fb }])).data), [-4, -4, -1]);
    assert.deepEqual(Array.from((await single('FloorMod', fa, [{ name: 'b', t: fb }])).data), [0.5, -0.5, 3.5]);
  });

  test('TopKV2 returns the largest first, equal values in index order, with int32 indices', async () => {
    const x = R.tensor([1, 8], [0.5, 0.9, 0.1, 0.9, 0.5, 0.7, 0.9, 0.2]);
    const g = new TfjsGraph();
    g.input('x', x.shape);
    g.const('k', [], [5], { int: true });
    g.op('TopKV2', 'top', ['x', 'k'], { sorted: attr.b(true) });
    const out = await convertAndRun(g, ['top', 'top:1'], { x });
    const want = R.topK(x, 5);
    assertClose(out.top, want.values, 0);
    assert.deepEqual(Array.from(out['top:1']!.data), [1, 3, 6, 5, 0]);
    assert.ok(out['top:1']!.data instanceof Int32Array);
  });

  test('SparseToDense of constants folds at conversion: NanoDet reshape targets [1,80,-1] + [0,0,0]', async () => {
    const x = rand([1, 4, 4, 80], 20);
    const g = new TfjsGraph();
    g.input('x', x.shape);
    g.const('base', [3], [1, 80, -1], { int: true });
    g.const('where', [0, 1], [], { int: true });
    g.const('dense_shape', [1], [3], { int: true });
    g.const('vals', [0], [], { int: true });
    g.const('zero', [], [0], { int: true });
    g.op('SparseToDense', 'std', ['where', 'dense_shape', 'vals', 'zero'], { T: attr.type('DT_INT32') });
    g.op('AddV2', 'target', ['base', 'std'], { T: attr.type('DT_INT32') });
    g.op('Transpose', 't', ['x', 'perm']);
    g.const('perm', [4], [0, 3, 1, 2], { int: true });
    g.op('Reshape', 'y', ['t', 'target']);
    const { json, shards } = g.build(['y']);
    const model = convertTfjsToOnnx(json, shards, 'fold');
    assert.equal(opCounts(model).SparseToDense, undefined);
    const { y } = await convertAndRun(g, ['y'], { x });
    assertClose(y, { ...R.transpose(x, [0, 3, 1, 2]), shape: [1, 80, 16] }, 0);
  });

  test('SparseToDense fed at run time fails the conversion naming the op and the model', () => {
    const g = new TfjsGraph();
    g.input('idx', [2], 'DT_INT32');
    g.const('shape', [1], [4], { int: true });
    g.const('vals', [], [1], { int: true });
    g.const('zero', [], [0], { int: true });
    g.op('SparseToDense', 'y', ['idx', 'shape', 'vals', 'zero']);
    const { json, shards } = g.build(['y']);
    assert.throws(() => convertTfjsToOnnx(json, shards, 'runtime-sparse'), (err: unknown) =>
      err instanceof TfjsFormatError && /runtime-sparse: SparseToDense node y/.test(err.message) && /only converted when all its inputs are constant/.test(err.message));
  });

  test('Mean keep_dims, ConcatV2 on the last axis, ExpandDims, Reshape −1 and Transpose keep TF axis meanings', async () => {
    const x = rand([1, 3, 4, 2], 21);
    const g = new TfjsGraph();
    g.input('x', x.shape);
    g.const('axes', [2], [1, 2], { int: true });
    g.op('Mean', 'mean', ['x', 'axes'], { keep_dims: attr.b(true) });
    g.const('axis', [], [-1], { int: true });
    g.op('Sigmoid', 'sig', ['x']);
    g.op('ConcatV2', 'cat', ['x', 'sig', 'axis'], { N: attr.i(2) });
    g.const('shape', [2], [-1, 4], { int: true });
    g.op('Reshape', 'flat', ['cat', 'shape']);
    g.const('dim', [], [0], { int: true });
    g.op('ExpandDims', 'exp', ['flat', 'dim']);
    const out = await convertAndRun(g, ['mean', 'exp'], { x });
    assertClose(out.mean, R.reduce(x, [1, 2], true, 'mean'));
    const cat = R.concat([x, R.map(x, (v) => 1 / (1 + Math.exp(-v)))], -1);
    assertClose(out.exp, { ...cat, shape: [1, cat.data.length / 4, 4] });
  });

  test('Pad and PadV2 (constant value), SplitV, StridedSlice with begin/end/shrink masks, GatherV2', async () => {
    const x = rand([1, 3, 4, 6], 22);
    const g = new TfjsGraph();
    g.input('x', x.shape);
    g.const('p', [4, 2], [0, 0, 1, 2, 0, 1, 0, 0], { int: true });
    g.op('Pad', 'pad', ['x', 'p']);
    g.const('v', [], [-2.5]);
    g.op('PadV2', 'pad2', ['x', 'p', 'v']);
    g.const('sizes', [2], [2, 4], { int: true });
    g.const('sdim', [], [3], { int: true });
    g.op('SplitV', 'split', ['x', 'sizes', 'sdim'], { num_split: attr.i(2) });
    g.const('b', [3], [0, 1, -3], { int: true });
    g.const('e', [3], [0, 0, 0], { int: true });
    g.const('s', [3], [1, 1, 1], { int: true });
    g.op('StridedSlice', 'slice', ['x', 'b', 'e', 's'], { begin_mask: attr.i(1), end_mask: attr.i(5), shrink_axis_mask: attr.i(2), ellipsis_mask: attr.i(0), new_axis_mask: attr.i(0) });
    g.const('idx', [3], [3, 0, 3], { int: true });
    g.const('gaxis', [], [2], { int: true });
    g.op('GatherV2', 'gather', ['x', 'idx', 'gaxis'], { batch_dims: attr.i(0) });
    const out = await convertAndRun(g, ['pad', 'pad2', 'split', 'split:1', 'slice', 'gather'], { x });
    const p = [0, 0, 1, 2, 0, 1, 0, 0];
    assertClose(out.pad, R.pad(x, p), 0);
    assertClose(out.pad2, R.pad(x, p, -2.5), 0);
    assertClose(out.split, R.sliceAxis(x, 3, 0, 2), 0);
    assertClose(out['split:1'], R.sliceAxis(x, 3, 2, 4), 0);
    assertClose(out.slice, R.stridedSlice(x, [0, 1, -3], [0, 0, 0], [1, 1, 1], { begin: 1, end: 5, shrink: 2 }), 0);
    assertClose(out.gather, R.gather(x, ints([3], [3, 0, 3]), 2), 0);
  });

  test('Equal → Cast, MatMul with transpose_b, BiasAdd, AddN, LeakyRelu, Relu6 and broadcasting Sub/Mul', async () => {
    const a = rand([3, 4], 23, -8, 8);
    const g = new TfjsGraph();
    g.input('a', a.shape);
    g.const('w', [5, 4], values(20, 24));
    g.op('MatMul', 'mm', ['a', 'w'], { transpose_a: attr.b(false), transpose_b: attr.b(true) });
    g.const('bias', [5], values(5, 25));
    g.op('BiasAdd', 'ba', ['mm', 'bias'], { data_format: attr.s('NHWC') });
    g.op('LeakyRelu', 'lr', ['ba'], { alpha: attr.f(0.1) });
    g.op('Relu6', 'r6', ['a']);
    g.op('AddN', 'sum', ['a', 'r6'], { N: attr.i(2) });
    g.const('half', [4], [0.5, 1, 2, 4]);
    g.op('Mul', 'mul', ['sum', 'half']);
    g.op('Sub', 'sub', ['mul', 'a']);
    g.op('Equal', 'eq', ['r6', 'a']);
    g.op('Cast', 'cast', ['eq'], { SrcT: attr.type('DT_BOOL'), DstT: attr.type('DT_FLOAT') });
    const out = await convertAndRun(g, ['lr', 'sub', 'cast'], { a });
    const ba = R.binary(R.matMul(a, R.tensor([5, 4], values(20, 24)), false, true), R.tensor([5], values(5, 25)), (x, y) => x + y);
    assertClose(out.lr, R.map(ba, (v) => (v < 0 ? 0.1 * v : v)));
    const r6 = R.map(a, (v) => Math.min(Math.max(v, 0), 6));
    const sum = R.binary(a, r6, (x, y) => x + y);
    assertClose(out.sub, R.binary(R.binary(sum, R.tensor([4], [0.5, 1, 2, 4]), (x, y) => x * y), a, (x, y) => x - y));
    assertClose(out.cast, R.binary(r6, a, (x, y) => (x === y ? 1 : 0)), 0);
  });

  test('consecutive convolutions leave no transposes between them; only the NHWC input and output are transposed', () => {
    const g = new TfjsGraph();
    g.input('x', [1, 8, 8, 3]);
    g.const('f1', [3, 3, 3, 4], values(108, 26));
    g.const('f2', [3, 3, 4, 1], values(36, 27));
    g.op('Conv2D', 'c1', ['x', 'f1'], nhwc('SAME'));
    g.op('DepthwiseConv2dNative', 'c2', ['c1', 'f2'], nhwc('SAME'));
    g.op('MaxPool', 'y', ['c2'], { ...nhwc('SAME', [2, 2]), ksize: attr.ints([1, 2, 2, 1]) });
    const { json, shards } = g.build(['y']);
    assert.equal(opCounts(convertTfjsToOnnx(json, shards, 'chain')).Transpose, 2);
  });

  test('an op the importer does not convert fails naming the op, the node and the model', () => {
    const g = new TfjsGraph();
    g.input('x', [1, 4]);
    g.op('Softplus', 'y', ['x']);
    const { json, shards } = g.build(['y']);
    assert.throws(() => convertTfjsToOnnx(json, shards, 'odd-model'), (err: unknown) =>
      err instanceof TfjsFormatError && /odd-model: op Softplus \(node y\) is not supported/.test(err.message));
  });

  test('a weights shard shorter than the manifest says, a missing shard and a layers model are refused', () => {
    const g = new TfjsGraph();
    g.input('x', [1, 4]);
    g.const('w', [4], [1, 2, 3, 4]);
    g.op('Mul', 'y', ['x', 'w']);
    const { json, shards } = g.build(['y']);
    const short = new Map([['test-model.bin', shards.get('test-model.bin')!.subarray(0, 12)]]);
    assert.throws(() => convertTfjsToOnnx(json, short, 'm'), /weight w needs bytes 0\.\.16 but the shards hold 12/);
    assert.throws(() => convertTfjsToOnnx(json, new Map(), 'm'), /weight shard test-model\.bin is missing/);
    assert.throws(() => convertTfjsToOnnx(JSON.stringify({ format: 'layers-model' }), shards, 'm'), /layers models are not supported/);
    assert.throws(() => convertTfjsToOnnx('{not json', shards, 'm'), /model\.json is not JSON/);
  });

  test('the conversion is deterministic: the same graph gives the same bytes', () => {
    const g = new TfjsGraph();
    g.input('x', [1, 5, 5, 2]);
    g.const('f', [3, 3, 2, 2], values(36, 28), { quant: 'float16' });
    g.op('Conv2D', 'y', ['x', 'f'], nhwc('SAME'));
    const { json, shards } = g.build(['y']);
    assert.deepEqual(convertTfjsToOnnx(json, shards, 'd'), convertTfjsToOnnx(json, shards, 'd'));
  });
});

describe('TF.js graph → ONNX, the ops beyond the shipped models', () => {
  test('RealDiv, Maximum, Minimum, Tanh and Prelu elementwise; Greater and Less as booleans cast to float', async () => {
    const x = rand([2, 3], 40, -2, 2);
    const g = new TfjsGraph();
    g.input('x', x.shape);
    g.const('k', [3], [0.5, -1, 2]);
    g.op('RealDiv', 'div', ['x', 'k']);
    g.op('Maximum', 'max', ['x', 'k']);
    g.op('Minimum', 'min', ['x', 'k']);
    g.op('Tanh', 'tanh', ['x']);
    g.op('Prelu', 'prelu', ['x', 'k']);
    g.op('Greater', 'gt', ['x', 'k']);
    g.op('Cast', 'gtf', ['gt'], { SrcT: attr.type('DT_BOOL'), DstT: attr.type('DT_FLOAT') });
    g.op('Less', 'lt', ['x', 'k']);
    g.op('Cast', 'ltf', ['lt'], { SrcT: attr.type('DT_BOOL'), DstT: attr.type('DT_FLOAT') });
    const out = await convertAndRun(g, ['div', 'max', 'min', 'tanh', 'prelu', 'gtf', 'ltf'], { x });
    const k = R.tensor([3], [0.5, -1, 2]);
    assertClose(out.div, R.binary(x, k, (a, b) => a / b));
    assertClose(out.max, R.binary(x, k, Math.max), 0);
    assertClose(out.min, R.binary(x, k, Math.min), 0);
    assertClose(out.tanh, R.map(x, Math.tanh));
    assertClose(out.prelu, R.binary(x, k, (a, b) => (a < 0 ? a * b : a)));
    assertClose(out.gtf, R.binary(x, k, (a, b) => (a > b ? 1 : 0)), 0);
    assertClose(out.ltf, R.binary(x, k, (a, b) => (a < b ? 1 : 0)), 0);
  });

  test('Squeeze with and without squeeze_dims, Split into equal parts, Sum and Max reductions', async () => {
    const x = rand([1, 4, 1, 6], 41);
    const g = new TfjsGraph();
    g.input('x', x.shape);
    g.op('Squeeze', 'sq', ['x'], { squeeze_dims: attr.ints([2]) });
    g.op('Squeeze', 'sqall', ['x'], { squeeze_dims: attr.ints([]) });
    g.const('dim', [], [3], { int: true });
    g.op('Split', 'split', ['dim', 'x'], { num_split: attr.i(3) });
    g.const('axes', [1], [3], { int: true });
    g.op('Sum', 'sum', ['x', 'axes'], { keep_dims: attr.b(false) });
    g.op('Max', 'rmax', ['x', 'axes'], { keep_dims: attr.b(true) });
    const out = await convertAndRun(g, ['sq', 'sqall', 'split', 'split:2', 'sum', 'rmax'], { x });
    assertClose(out.sq, { ...x, shape: [1, 4, 6] }, 0);
    assertClose(out.sqall, { ...x, shape: [4, 6] }, 0);
    assertClose(out.split, R.sliceAxis(x, 3, 0, 2), 0);
    assertClose(out['split:2'], R.sliceAxis(x, 3, 4, 2), 0);
    assertClose(out.sum, R.reduce(x, [3], false, 'sum'));
    assertClose(out.rmax, R.reduce(x, [3], true, 'max'), 0);
  });

  for (const [act, activation, extra] of [
    ['LeakyRelu', (v: number) => (v < 0 ? 0.3 * v : v), { leakyrelu_alpha: attr.f(0.3) }],
    ['Sigmoid', (v: number) => 1 / (1 + Math.exp(-v)), {}],
    ['Elu', (v: number) => (v < 0 ? Math.exp(v) - 1 : v), {}],
  ] as const) {
    test(`_FusedConv2D [BiasAdd, ${act}] applies the activation after the bias`, async () => {
      const x = rand([1, 4, 5, 2], 42);
      const f = rand([3, 3, 2, 3], 43);
      const b = rand([3], 44);
      const got = await single('_FusedConv2D', x, [{ name: 'f', t: f }, { name: 'b', t: b }], { ...nhwc('SAME'), fused_ops: attr.strs(['BiasAdd', act]), num_args: attr.i(1), ...extra });
      assertClose(got, R.map(R.binary(R.conv2d(x, f, { padding: 'SAME' }), b, (p, q) => p + q), activation));
    });
  }

  test('_FusedConv2D [BiasAdd, Prelu] takes a per-channel slope as its second argument', async () => {
    const x = rand([1, 4, 4, 2], 45);
    const f = rand([1, 1, 2, 3], 46);
    const b = rand([3], 47);
    const slope = R.tensor([3], [0.1, 0.5, -0.25]);
    const got = await single('_FusedConv2D', x, [{ name: 'f', t: f }, { name: 'b', t: b }, { name: 's', t: slope }], { ...nhwc('VALID'), fused_ops: attr.strs(['BiasAdd', 'Prelu']), num_args: attr.i(2) });
    const y = R.binary(R.conv2d(x, f, { padding: 'VALID' }), b, (p, q) => p + q);
    assertClose(got, R.binary(y, slope, (v, s) => (v < 0 ? v * s : v)));
  });
});
