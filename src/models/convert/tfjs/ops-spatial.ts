import type { AttrValue } from '../../onnx/graph-builder.js';
import type { NodeDef } from './model-json.js';
import { TO_NCHW, TO_NHWC, type Emitter, type Value } from './emitter.js';
import type { ConstTensor } from './weights.js';

/**
 * The layout-bound ops. Tensors stay NHWC, as TF has them, so every axis-based op (Concat, Mean,
 * Reshape, StridedSlice…) keeps TF's meaning unchanged; each op here runs in NCHW between a
 * transpose in and a transpose out. The emitter cancels the pairs between consecutive
 * layout-bound ops, and onnxruntime's transpose optimiser pushes the rest through elementwise ops.
 */

export type OpEmitter = (node: NodeDef, ctx: Emitter, inputs: Value[]) => Value[];

interface Window {
  strides: number[];
  dilations: number[];
  pad: Record<string, AttrValue>;
}

function requireNhwc(node: NodeDef, ctx: Emitter): void {
  const format = ctx.attrs(node).str('data_format', 'NHWC');
  if (format !== 'NHWC') ctx.fail(node, `data_format ${format} is not supported (NHWC only)`);
}

/**
 * TF's SAME puts the odd pixel of padding after (bottom/right), which is ONNX's SAME_UPPER;
 * EXPLICIT lists NHWC before/after pairs.
 */
function padding(node: NodeDef, ctx: Emitter): Record<string, AttrValue> {
  const a = ctx.attrs(node);
  const mode = a.str('padding');
  if (mode === 'SAME') return { auto_pad: 'SAME_UPPER' };
  // Explicit zero pads rather than auto_pad VALID: onnxruntime's Pad→Conv fusion skips auto_pad
  // convs, and NanoDet's export pads every conv with a separate Pad (29 nodes, 3.9 ms of 27 ms).
  if (mode === 'VALID') return { pads: [0, 0, 0, 0] };
  if (mode === 'EXPLICIT') {
    const p = a.ints('explicit_paddings');
    return { pads: [p[2]!, p[4]!, p[3]!, p[5]!] };
  }
  return ctx.fail(node, `padding ${mode} is not supported`);
}

function windowOf(node: NodeDef, ctx: Emitter): Window {
  requireNhwc(node, ctx);
  const a = ctx.attrs(node);
  const s = a.ints('strides', [1, 1, 1, 1]);
  const d = a.ints('dilations', [1, 1, 1, 1]);
  return { strides: [s[1]!, s[2]!], dilations: [d[1]!, d[2]!], pad: padding(node, ctx) };
}

/** A 4-D constant with its axes permuted: `perm[i]` is the source axis of output axis i. */
function permute(f: ConstTensor, perm: readonly number[]): ConstTensor {
  const shape = perm.map((p) => f.shape[p]!);
  const src = [f.shape[1]! * f.shape[2]! * f.shape[3]!, f.shape[2]! * f.shape[3]!, f.shape[3]!, 1];
  const step = perm.map((p) => src[p]!);
  const out = new Float32Array(f.data.length);
  let o = 0;
  for (let a = 0; a < shape[0]!; a++) for (let b = 0; b < shape[1]!; b++) for (let c = 0; c < shape[2]!; c++) for (let d = 0; d < shape[3]!; d++) {
    out[o++] = f.data[a * step[0]! + b * step[1]! + c * step[2]! + d * step[3]!]!;
  }
  return { dtype: 'float32', shape, data: out };
}

/** TF filter [kh, kw, in, out] → ONNX [out, in, kh, kw]; a transposed conv's [kh, kw, out, in] → ConvTranspose's [in, out, kh, kw] alike. */
const convWeights = (f: ConstTensor) => permute(f, [3, 2, 0, 1]);

/** TF depthwise filter [kh, kw, C, M] → ONNX grouped [C·M, 1, kh, kw]; output channel c·M + m, as TF orders them. */
function depthwiseWeights(f: ConstTensor): ConstTensor {
  const p = permute(f, [2, 3, 0, 1]);
  return { ...p, shape: [p.shape[0]! * p.shape[1]!, 1, p.shape[2]!, p.shape[3]!] };
}

function filter(node: NodeDef, ctx: Emitter, v: Value | undefined): ConstTensor {
  const f = ctx.constant(node, v, 'filter');
  if (f.shape.length !== 4 || f.dtype !== 'float32') ctx.fail(node, `expects a float32 4-D filter, got ${f.dtype} [${f.shape.join(', ')}]`);
  return f;
}

/** Folds a fused batch norm (scale, offset, mean, variance) into the conv's weights and bias. */
function foldBatchNorm(w: ConstTensor, args: ConstTensor[], epsilon: number): { w: ConstTensor; bias: Float32Array } {
  const [scale, offset, mean, variance] = [0, 1, 2, 3].map((i) => args[i]!.data);
  const cout = w.shape[0]!;
  const per = w.data.length / cout;
  const data = Float32Array.from(w.data);
  const bias = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const k = scale![o]! / Math.sqrt(variance![o]! + epsilon);
    for (let i = 0; i < per; i++) data[o * per + i]! *= k;
    bias[o] = offset![o]! - mean![o]! * k;
  }
  return { w: { ...w, data }, bias };
}

/** An activation applied in NCHW (so onnxruntime fuses it into the conv). `alpha` is a per-channel PReLU slope. */
function activate(node: NodeDef, ctx: Emitter, x: string, kind: string, alpha?: ConstTensor): string {
  const g = ctx.g;
  switch (kind) {
    case 'Relu': return g.op('Relu', [x]);
    case 'Relu6': return g.op('Clip', [x, ctx.floatScalar(0), ctx.floatScalar(6)]);
    case 'Elu': return g.op('Elu', [x], { alpha: { float: 1 } });
    case 'Sigmoid': return g.op('Sigmoid', [x]);
    case 'LeakyRelu': return g.op('LeakyRelu', [x], { alpha: { float: ctx.attrs(node).float('leakyrelu_alpha', 0.2) } });
    case 'Prelu': {
      if (!alpha) return ctx.fail(node, 'Prelu needs its alpha argument');
      const slope = ctx.name({ kind: 'const', tensor: { ...alpha, shape: [alpha.data.length, 1, 1] } });
      return g.op('PRelu', [x, slope]);
    }
    default: return ctx.fail(node, `fused activation ${kind} is not supported`);
  }
}

/**
 * Conv2D, DepthwiseConv2dNative and their grappler-fused forms: `fused_ops` is a bias add or a
 * batch norm, optionally followed by one activation, with `num_args` extra inputs.
 */
function convolution(depthwise: boolean, fused: boolean): OpEmitter {
  return (node, ctx, [x, f, ...args]) => {
    const win = windowOf(node, ctx);
    let w = filter(node, ctx, f);
    const groups = depthwise ? w.shape[2]! : 1;
    w = depthwise ? depthwiseWeights(w) : convWeights(w);
    const ops = fused ? ctx.attrs(node).strs('fused_ops') : [];
    const extra = args.map((a, i) => ctx.constant(node, a, `fused argument ${i}`));
    let bias: Float32Array | undefined;
    let rest = ops;
    if (ops[0] === 'BiasAdd') {
      bias = Float32Array.from(extra[0]!.data);
      rest = ops.slice(1);
    } else if (ops[0] === 'FusedBatchNorm') {
      ({ w, bias } = foldBatchNorm(w, extra.slice(0, 4), ctx.attrs(node).float('epsilon', 0.001)));
      rest = ops.slice(1);
    } else if (ops.length > 0) ctx.fail(node, `fused_ops [${ops.join(', ')}] are not supported`);
    if (rest.length > 1) ctx.fail(node, `fused_ops [${ops.join(', ')}]: at most one activation is supported`);
    const [kh, kw] = [w.shape[2]!, w.shape[3]!];
    const inputs = [ctx.transpose(ctx.name(x!), TO_NCHW), ctx.name({ kind: 'const', tensor: w })];
    if (bias) inputs.push(ctx.name({ kind: 'const', tensor: { dtype: 'float32', shape: [bias.length], data: bias } }));
    let y = ctx.g.op('Conv', inputs, { kernel_shape: [kh, kw], strides: win.strides, dilations: win.dilations, group: groups, ...win.pad });
    if (rest[0]) y = activate(node, ctx, y, rest[0], ops[0] === 'BiasAdd' ? extra[1] : extra[4]);
    return [{ kind: 'tensor', name: ctx.transpose(y, TO_NHWC), dtype: 'float32' }];
  };
}

/**
 * Conv2DBackpropInput (a transposed conv): `input_sizes` fixes the output [N, H, W, C]. The pads
 * are those TF's forward conv would use for that size (SAME: half before, the odd one after), and
 * output_padding makes up a stride larger than the kernel.
 */
const transposedConv: OpEmitter = (node, ctx, [sizes, f, x]) => {
  const win = windowOf(node, ctx);
  const out = ctx.ints(node, sizes, 'input_sizes');
  const w = convWeights(filter(node, ctx, f));
  const kernel = [w.shape[2]!, w.shape[3]!];
  const same = ctx.attrs(node).str('padding') === 'SAME';
  const before: number[] = [];
  const after: number[] = [];
  const outputPadding: number[] = [];
  for (const axis of [0, 1]) {
    const size = out[axis + 1]!;
    const s = win.strides[axis]!;
    const k = (kernel[axis]! - 1) * win.dilations[axis]! + 1;
    const inSize = same ? Math.ceil(size / s) : Math.ceil((size - k + 1) / s);
    const total = same ? Math.max((inSize - 1) * s + k - size, 0) : 0;
    before.push(Math.floor(total / 2));
    after.push(total - Math.floor(total / 2));
    outputPadding.push(size - ((inSize - 1) * s + k - total));
  }
  const y = ctx.g.op('ConvTranspose', [ctx.transpose(ctx.name(x!), TO_NCHW), ctx.name({ kind: 'const', tensor: w })], {
    kernel_shape: kernel, strides: win.strides, dilations: win.dilations, pads: [...before, ...after], output_padding: outputPadding,
  });
  return [{ kind: 'tensor', name: ctx.transpose(y, TO_NHWC), dtype: 'float32' }];
};

/** MaxPool and AvgPool; TF's SAME average excludes the padding from the count, as ONNX's default does. */
function pool(type: 'MaxPool' | 'AveragePool'): OpEmitter {
  return (node, ctx, [x]) => {
    const win = windowOf(node, ctx);
    const k = ctx.attrs(node).ints('ksize');
    const y = ctx.g.op(type, [ctx.transpose(ctx.name(x!), TO_NCHW)], { kernel_shape: [k[1]!, k[2]!], strides: win.strides, ...win.pad });
    return [{ kind: 'tensor', name: ctx.transpose(y, TO_NHWC), dtype: 'float32' }];
  };
}

/**
 * ResizeBilinear's two flags pick TF's source-coordinate rule: align_corners maps corner to corner,
 * half_pixel_centers samples at (i + ½)·in/out − ½ (clamped at the edge, as ONNX's half_pixel
 * does), and neither is TF's legacy i·in/out, ONNX's 'asymmetric'.
 */
const resizeBilinear: OpEmitter = (node, ctx, [x, size]) => {
  const a = ctx.attrs(node);
  const [h, w] = ctx.ints(node, size, 'size');
  const mode = a.bool('align_corners') ? 'align_corners' : a.bool('half_pixel_centers') ? 'half_pixel' : 'asymmetric';
  const nchw = ctx.transpose(ctx.name(x!), TO_NCHW);
  const batchChannels = ctx.g.op('Slice', [ctx.g.op('Shape', [nchw]), ctx.int64([0]), ctx.int64([2])]);
  const sizes = ctx.g.op('Concat', [batchChannels, ctx.int64([h!, w!])], { axis: 0 });
  const y = ctx.g.op('Resize', [nchw, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: mode });
  return [{ kind: 'tensor', name: ctx.transpose(y, TO_NHWC), dtype: 'float32' }];
};

export const SPATIAL_OPS: Record<string, OpEmitter> = {
  Conv2D: convolution(false, false),
  _FusedConv2D: convolution(false, true),
  DepthwiseConv2dNative: convolution(true, false),
  FusedDepthwiseConv2dNative: convolution(true, true),
  Conv2DBackpropInput: transposedConv,
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
  ResizeBilinear: resizeBilinear,
};
