import type { AttrValue } from '../../onnx/graph-builder.js';
import { onnxType, type Emitter, type Value } from './emitter.js';
import { tfDType } from './fold.js';
import type { OpEmitter } from './ops-spatial.js';
import type { DType } from './weights.js';

/** Elementwise, shape and reduction ops: TF and ONNX agree on NumPy broadcasting and on axes. */

const tensor = (name: string, dtype: DType): Value => ({ kind: 'tensor', name, dtype });
const dtypeOf = (v: Value): DType => (v.kind === 'const' ? v.tensor.dtype : v.dtype);

function binary(type: string, result?: DType): OpEmitter {
  return (_node, ctx, [a, b]) => [tensor(ctx.g.op(type, [ctx.name(a!), ctx.name(b!)]), result ?? dtypeOf(a!))];
}

function unary(type: string, attrs: Record<string, AttrValue> = {}): OpEmitter {
  return (_node, ctx, [x]) => [tensor(ctx.g.op(type, [ctx.name(x!)], attrs), dtypeOf(x!))];
}

/**
 * FloorDiv and FloorMod round toward −∞; ONNX's integer Div truncates toward zero. Integer Mod
 * with fmod=0 already takes the divisor's sign (a floor modulo), so floor division is
 * (a − a mod b) / b, which divides exactly. Floats use Floor(a / b).
 */
const floorDiv: OpEmitter = (_node, ctx, [a, b]) => {
  const [x, y] = [ctx.name(a!), ctx.name(b!)];
  if (dtypeOf(a!) === 'float32') return [tensor(ctx.g.op('Floor', [ctx.g.op('Div', [x, y])]), 'float32')];
  const mod = ctx.g.op('Mod', [x, y], { fmod: 0 });
  return [tensor(ctx.g.op('Div', [ctx.g.op('Sub', [x, mod]), y]), dtypeOf(a!))];
};

const floorMod: OpEmitter = (_node, ctx, [a, b]) => {
  const [x, y] = [ctx.name(a!), ctx.name(b!)];
  if (dtypeOf(a!) !== 'float32') return [tensor(ctx.g.op('Mod', [x, y], { fmod: 0 }), dtypeOf(a!))];
  const q = ctx.g.op('Floor', [ctx.g.op('Div', [x, y])]);
  return [tensor(ctx.g.op('Sub', [x, ctx.g.op('Mul', [q, y])]), 'float32')];
};

const relu6: OpEmitter = (_node, ctx, [x]) => [tensor(ctx.g.op('Clip', [ctx.name(x!), ctx.floatScalar(0), ctx.floatScalar(6)]), 'float32')];

const leakyRelu: OpEmitter = (node, ctx, [x]) => [tensor(ctx.g.op('LeakyRelu', [ctx.name(x!)], { alpha: { float: ctx.attrs(node).float('alpha', 0.2) } }), 'float32')];

const biasAdd: OpEmitter = (node, ctx, [x, b]) => {
  const format = ctx.attrs(node).str('data_format', 'NHWC');
  if (format !== 'NHWC') ctx.fail(node, `data_format ${format} is not supported (NHWC only)`);
  return [tensor(ctx.g.op('Add', [ctx.name(x!), ctx.name(b!)]), 'float32')];
};

const addN: OpEmitter = (_node, ctx, xs) => [tensor(ctx.g.op('Sum', xs.map((x) => ctx.name(x))), dtypeOf(xs[0]!))];

const cast: OpEmitter = (node, ctx, [x]) => {
  const to = tfDType(node, ctx, 'DstT');
  return [tensor(ctx.g.op('Cast', [ctx.name(x!)], { to: onnxType(to) }), to)];
};

/** A zero in a TF shape is a zero-sized dimension; ONNX reads 0 as "copy" unless allowzero is set. */
const reshape: OpEmitter = (_node, ctx, [x, shape]) => {
  const zero = shape!.kind === 'const' && Array.from(shape!.tensor.data).includes(0);
  return [tensor(ctx.g.op('Reshape', [ctx.name(x!), ctx.asInt64(shape!)], zero ? { allowzero: 1 } : {}), dtypeOf(x!))];
};

const expandDims: OpEmitter = (node, ctx, [x, dim]) => [tensor(ctx.g.op('Unsqueeze', [ctx.name(x!), ctx.int64(ctx.ints(node, dim, 'dim'))]), dtypeOf(x!))];

const squeeze: OpEmitter = (node, ctx, [x]) => {
  const axes = ctx.attrs(node).ints('squeeze_dims', []);
  return [tensor(ctx.g.op('Squeeze', axes.length ? [ctx.name(x!), ctx.int64(axes)] : [ctx.name(x!)]), dtypeOf(x!))];
};

const concat: OpEmitter = (node, ctx, inputs) => {
  const axis = ctx.ints(node, inputs.at(-1), 'axis')[0]!;
  return [tensor(ctx.g.op('Concat', inputs.slice(0, -1).map((v) => ctx.name(v)), { axis }), dtypeOf(inputs[0]!))];
};

const transpose: OpEmitter = (node, ctx, [x, perm]) => [tensor(ctx.transpose(ctx.name(x!), ctx.ints(node, perm, 'perm')), dtypeOf(x!))];

/** TF paddings [rank, 2] (before, after per axis) → ONNX pads [all befores…, all afters…]. */
const pad: OpEmitter = (node, ctx, [x, paddings, value]) => {
  const p = ctx.ints(node, paddings, 'paddings');
  const pads = [...p.filter((_, i) => i % 2 === 0), ...p.filter((_, i) => i % 2 === 1)];
  const inputs = [ctx.name(x!), ctx.int64(pads)];
  if (value) inputs.push(ctx.name(value));
  return [tensor(ctx.g.op('Pad', inputs, { mode: 'constant' }), dtypeOf(x!))];
};

function splitOutputs(ctx: Emitter, inputs: string[], axis: number, count: number, dtype: DType): Value[] {
  const names = Array.from({ length: count }, () => ctx.g.fresh('split'));
  ctx.g.node('Split', inputs, { axis }, names);
  return names.map((n) => tensor(n, dtype));
}

const splitV: OpEmitter = (node, ctx, [x, sizes, dim]) => {
  const s = ctx.ints(node, sizes, 'size_splits');
  if (s.includes(-1)) ctx.fail(node, 'size_splits with an inferred (-1) size is not supported');
  return splitOutputs(ctx, [ctx.name(x!), ctx.int64(s)], ctx.ints(node, dim, 'split_dim')[0]!, s.length, dtypeOf(x!));
};

const split: OpEmitter = (node, ctx, [dim, x]) =>
  splitOutputs(ctx, [ctx.name(x!)], ctx.ints(node, dim, 'split_dim')[0]!, ctx.attrs(node).int('num_split'), dtypeOf(x!));

const INT_MAX = 2 ** 31 - 1;
const INT_MIN = -(2 ** 31);

/**
 * StridedSlice over the first `n` axes: a masked begin or end runs to that side's limit, and a
 * shrink axis takes one element and drops the axis. Ellipsis and new axes are refused.
 */
const stridedSlice: OpEmitter = (node, ctx, [x, b, e, s]) => {
  const a = ctx.attrs(node);
  const [begin, end, strides] = [ctx.ints(node, b, 'begin'), ctx.ints(node, e, 'end'), ctx.ints(node, s, 'strides')];
  if (a.int('ellipsis_mask', 0) || a.int('new_axis_mask', 0)) ctx.fail(node, 'ellipsis_mask and new_axis_mask are not supported');
  const [bm, em, sm] = [a.int('begin_mask', 0), a.int('end_mask', 0), a.int('shrink_axis_mask', 0)];
  const starts: number[] = [];
  const ends: number[] = [];
  const shrink: number[] = [];
  begin.forEach((start, i) => {
    const step = strides[i]!;
    if (sm & (1 << i)) {
      starts.push(start);
      ends.push(start === -1 ? INT_MAX : start + 1);
      shrink.push(i);
      return;
    }
    starts.push(bm & (1 << i) ? (step > 0 ? 0 : INT_MAX) : start);
    ends.push(em & (1 << i) ? (step > 0 ? INT_MAX : INT_MIN) : end[i]!);
  });
  const axes = begin.map((_, i) => i);
  const steps = begin.map((_, i) => (sm & (1 << i) ? 1 : strides[i]!));
  let y = ctx.g.op('Slice', [ctx.name(x!), ctx.int64(starts), ctx.int64(ends), ctx.int64(axes), ctx.int64(steps)]);
  if (shrink.length) y = ctx.g.op('Squeeze', [y, ctx.int64(shrink)]);
  return [tensor(y, dtypeOf(x!))];
};

const gather: OpEmitter = (node, ctx, [params, indices, axis]) => {
  if (ctx.attrs(node).int('batch_dims', 0) !== 0) ctx.fail(node, 'batch_dims other than 0 is not supported');
  return [tensor(ctx.g.op('Gather', [ctx.name(params!), ctx.name(indices!)], { axis: ctx.ints(node, axis, 'axis')[0]! }), dtypeOf(params!))];
};

/** TopKV2 over the last axis, largest first; on ties the lower index comes first in both. Indices are int32 in TF. */
const topK: OpEmitter = (node, ctx, [x, k]) => {
  const [values, indices] = [ctx.g.fresh('topk_values'), ctx.g.fresh('topk_indices')];
  ctx.g.node('TopK', [ctx.name(x!), ctx.int64(ctx.ints(node, k, 'k'))], { axis: -1, largest: 1, sorted: 1 }, [values, indices]);
  return [tensor(values, dtypeOf(x!)), tensor(ctx.g.op('Cast', [indices], { to: onnxType('int32') }), 'int32')];
};

/** Reductions keep TF's axes; ONNX opset 17 takes them as an attribute (ReduceSum as an input). */
function reduce(type: string): OpEmitter {
  return (node, ctx, [x, axes]) => {
    const keepdims = ctx.attrs(node).bool('keep_dims') ? 1 : 0;
    const list = ctx.ints(node, axes, 'axes');
    const y = type === 'ReduceSum'
      ? ctx.g.op(type, [ctx.name(x!), ctx.int64(list)], { keepdims })
      : ctx.g.op(type, [ctx.name(x!)], { axes: list, keepdims });
    return [tensor(y, dtypeOf(x!))];
  };
}

const matMul: OpEmitter = (node, ctx, [a, b]) => {
  const attrs = ctx.attrs(node);
  const side = (v: Value, flag: string) => (attrs.bool(flag) ? ctx.transpose(ctx.name(v), [1, 0]) : ctx.name(v));
  return [tensor(ctx.g.op('MatMul', [side(a!, 'transpose_a'), side(b!, 'transpose_b')]), 'float32')];
};

const prelu: OpEmitter = (_node, ctx, [x, alpha]) => [tensor(ctx.g.op('PRelu', [ctx.name(x!), ctx.name(alpha!)]), 'float32')];

export const TENSOR_OPS: Record<string, OpEmitter> = {
  Add: binary('Add'),
  AddV2: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  FloorDiv: floorDiv,
  FloorMod: floorMod,
  Equal: binary('Equal', 'bool'),
  Greater: binary('Greater', 'bool'),
  Less: binary('Less', 'bool'),
  AddN: addN,
  BiasAdd: biasAdd,
  Relu: unary('Relu'),
  Relu6: relu6,
  LeakyRelu: leakyRelu,
  Prelu: prelu,
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Cast: cast,
  Reshape: reshape,
  ExpandDims: expandDims,
  Squeeze: squeeze,
  ConcatV2: concat,
  Transpose: transpose,
  Pad: pad,
  PadV2: pad,
  SplitV: splitV,
  Split: split,
  StridedSlice: stridedSlice,
  GatherV2: gather,
  TopKV2: topK,
  Mean: reduce('ReduceMean'),
  Max: reduce('ReduceMax'),
  Sum: reduce('ReduceSum'),
  MatMul: matMul,
};
