import type { AttrValue, GraphBuilder } from '../onnx/graph-builder.js';
import { LayerParams, NcnnFormatError, type NcnnLayer } from './ncnn-param.js';
import type { NcnnWeights } from './ncnn-weights.js';

/** What a layer emitter needs: the graph, the weight stream and the blob → tensor naming. */
export interface EmitContext {
  g: GraphBuilder;
  weights: NcnnWeights;
  /** The ONNX tensor holding an ncnn blob. */
  tensor(blob: string): string;
  /** The ONNX name to give a blob this layer produces. */
  produce(blob: string): string;
  /** Makes `blob` another name for an existing tensor (Split). */
  alias(blob: string, tensor: string): void;
  /** Channel counts by tensor name, for the output's declared shape. */
  channels: Map<string, number>;
}

type Emitter = (layer: NcnnLayer, p: LayerParams, ctx: EmitContext) => void;

function only<T>(items: T[], layer: NcnnLayer, what: string): T {
  if (items.length !== 1) throw new NcnnFormatError(`${layer.type} ${layer.name}: expected one ${what}, got ${items.length}`);
  return items[0] as T;
}

function scalar(ctx: EmitContext, name: string, value: number): string {
  return ctx.g.initializer(ctx.g.fresh(name), [], new Float32Array([value]));
}

/** ncnn's fused activation after Convolution: 9 = type (non-zero here), 10 = its params. */
function activation(layer: NcnnLayer, p: LayerParams, ctx: EmitContext, x: string, out: string): void {
  const type = p.num(9, 0);
  const args = p.array(10);
  const g = ctx.g;
  if (type === 1) g.op('Relu', [x], {}, out);
  else if (type === 2) g.op('LeakyRelu', [x], { alpha: { float: args[0] ?? 0 } }, out);
  else if (type === 3) g.op('Clip', [x, scalar(ctx, 'clip_min', args[0] ?? 0), scalar(ctx, 'clip_max', args[1] ?? 0)], {}, out);
  else if (type === 4) g.op('Sigmoid', [x], {}, out);
  else throw new NcnnFormatError(`${layer.type} ${layer.name}: fused activation type ${type} is not supported (supported: 0 none, 1 ReLU, 2 leaky ReLU, 3 clip, 4 sigmoid)`);
}

function convolutionAttrs(layer: NcnnLayer, p: LayerParams): Record<string, AttrValue> {
  const kw = p.num(1, 0);
  const padLeft = p.num(4, 0);
  const padTop = p.num(14, padLeft);
  const attrs: Record<string, AttrValue> = {
    kernel_shape: [p.num(11, kw), kw],
    dilations: [p.num(12, p.num(2, 1)), p.num(2, 1)],
    strides: [p.num(13, p.num(3, 1)), p.num(3, 1)],
  };
  if (padLeft === -233) return { ...attrs, auto_pad: 'SAME_UPPER' };
  if (padLeft === -234) return { ...attrs, auto_pad: 'SAME_LOWER' };
  if (padLeft < 0) throw new NcnnFormatError(`${layer.type} ${layer.name}: pad ${padLeft} is not supported`);
  return { ...attrs, pads: [padTop, padLeft, p.num(16, padTop), p.num(15, padLeft)] };
}

const convolution: Emitter = (layer, p, ctx) => {
  if (p.num(8, 0) !== 0 || p.num(19, 0) !== 0) {
    throw new NcnnFormatError(`Convolution ${layer.name}: int8 or dynamic weights (keys 8/19) are not supported`);
  }
  const outC = p.num(0, 0);
  const attrs = convolutionAttrs(layer, p);
  const [kh, kw] = attrs.kernel_shape as [number, number];
  const count = p.num(6, 0);
  const inC = count / (outC * kh * kw);
  if (!Number.isInteger(inC) || inC < 1) {
    throw new NcnnFormatError(`Convolution ${layer.name}: weight count ${count} is not ${outC}×C×${kh}×${kw}`);
  }
  const w = ctx.g.initializer(`${layer.name}.weight`, [outC, inC, kh, kw], ctx.weights.tagged(count, `Convolution ${layer.name} weights`));
  const inputs = [ctx.tensor(only(layer.inputs, layer, 'input')), w];
  if (p.num(5, 0)) inputs.push(ctx.g.initializer(`${layer.name}.bias`, [outC], ctx.weights.raw(outC, `Convolution ${layer.name} bias`)));
  const out = ctx.produce(only(layer.outputs, layer, 'output'));
  ctx.channels.set(out, outC);
  if (p.num(9, 0) === 0) {
    ctx.g.op('Conv', inputs, attrs, out);
    return;
  }
  activation(layer, p, ctx, ctx.g.op('Conv', inputs, attrs), out);
};

const prelu: Emitter = (layer, p, ctx) => {
  const n = p.num(0, 0);
  const slopes = ctx.weights.raw(n, `PReLU ${layer.name} slopes`);
  const slope = ctx.g.initializer(`${layer.name}.slope`, n === 1 ? [1] : [n, 1, 1], slopes);
  const x = ctx.tensor(only(layer.inputs, layer, 'input'));
  const out = ctx.g.op('PRelu', [x, slope], {}, ctx.produce(only(layer.outputs, layer, 'output')));
  passChannels(ctx, x, out);
};

function passChannels(ctx: EmitContext, from: string, to: string): void {
  const c = ctx.channels.get(from);
  if (c !== undefined) ctx.channels.set(to, c);
}

const ELTWISE_OPS: Record<number, string> = { 0: 'Mul', 1: 'Sum', 2: 'Max' };

const eltwise: Emitter = (layer, p, ctx) => {
  const opType = ELTWISE_OPS[p.num(0, 0)];
  if (!opType) throw new NcnnFormatError(`Eltwise ${layer.name}: operation ${p.num(0, 0)} is not supported (0 prod, 1 sum, 2 max)`);
  if (layer.inputs.length < 2) throw new NcnnFormatError(`Eltwise ${layer.name}: expected two or more inputs`);
  const coeffs = p.array(1);
  if (coeffs.length > 0 && (opType !== 'Sum' || coeffs.length !== layer.inputs.length)) {
    throw new NcnnFormatError(`Eltwise ${layer.name}: coefficients need a sum with one per input`);
  }
  const inputs = layer.inputs.map((blob, i) => {
    const x = ctx.tensor(blob);
    const k = coeffs[i] ?? 1;
    return k === 1 ? x : ctx.g.op('Mul', [x, scalar(ctx, `${layer.name}.coeff`, k)]);
  });
  const out = ctx.produce(only(layer.outputs, layer, 'output'));
  if (opType === 'Mul') {
    // ONNX Mul takes two inputs; Sum and Max take any number.
    const product = inputs.slice(1, -1).reduce((acc, x) => ctx.g.op('Mul', [acc, x]), inputs[0] as string);
    ctx.g.op('Mul', [product, inputs[inputs.length - 1] as string], {}, out);
  } else ctx.g.op(opType, inputs, {}, out);
  passChannels(ctx, ctx.tensor(layer.inputs[0] as string), out);
};

const BINARY_OPS: Record<number, string> = { 0: 'Add', 1: 'Sub', 2: 'Mul', 3: 'Div', 4: 'Max', 5: 'Min', 6: 'Pow' };

const binaryOp: Emitter = (layer, p, ctx) => {
  const opType = BINARY_OPS[p.num(0, 0)];
  if (!opType) throw new NcnnFormatError(`BinaryOp ${layer.name}: operation ${p.num(0, 0)} is not supported (0 add … 6 pow)`);
  const a = ctx.tensor(layer.inputs[0] ?? '');
  const b = p.num(1, 0) ? scalar(ctx, `${layer.name}.b`, p.num(2, 0)) : ctx.tensor(layer.inputs[1] ?? '');
  const expected = p.num(1, 0) ? 1 : 2;
  if (layer.inputs.length !== expected) throw new NcnnFormatError(`BinaryOp ${layer.name}: expected ${expected} inputs`);
  const out = ctx.g.op(opType, [a, b], {}, ctx.produce(only(layer.outputs, layer, 'output')));
  passChannels(ctx, a, out);
};

const concat: Emitter = (layer, p, ctx) => {
  const axis = p.num(0, 0);
  const inputs = layer.inputs.map((blob) => ctx.tensor(blob));
  const out = ctx.g.op('Concat', inputs, { axis: axis >= 0 ? axis + 1 : axis }, ctx.produce(only(layer.outputs, layer, 'output')));
  const sizes = inputs.map((x) => ctx.channels.get(x) ?? NaN);
  const total = sizes.reduce((sum, c) => sum + c, 0);
  if (axis === 0 && !Number.isNaN(total)) ctx.channels.set(out, total);
};

/** ncnn resize types: 1 nearest (floor of dst × src/dst), 2 bilinear, 3 bicubic (a = −0.75). */
function resizeAttrs(layer: NcnnLayer, mode: number, alignCorner: boolean): Record<string, AttrValue> {
  const ctm = alignCorner ? 'align_corners' : 'half_pixel';
  if (mode === 1) return { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
  if (mode === 2) return { mode: 'linear', coordinate_transformation_mode: ctm };
  if (mode === 3) return { mode: 'cubic', coordinate_transformation_mode: ctm, cubic_coeff_a: { float: -0.75 } };
  throw new NcnnFormatError(`Interp ${layer.name}: resize type ${mode} is not supported (1 nearest, 2 bilinear, 3 bicubic)`);
}

const interp: Emitter = (layer, p, ctx) => {
  if (p.num(3, 0) || p.num(4, 0) || p.num(5, 0)) {
    throw new NcnnFormatError(`Interp ${layer.name}: fixed or dynamic output sizes (keys 3/4/5) are not supported, only scales`);
  }
  const attrs = resizeAttrs(layer, p.num(0, 0), p.num(6, 0) === 1);
  const scales = ctx.g.initializer(`${layer.name}.scales`, [4], new Float32Array([1, 1, p.num(1, 1), p.num(2, 1)]));
  const roi = ctx.g.initializer(`${layer.name}.roi`, [0], new Float32Array(0));
  const x = ctx.tensor(only(layer.inputs, layer, 'input'));
  const out = ctx.g.op('Resize', [x, roi, scales], attrs, ctx.produce(only(layer.outputs, layer, 'output')));
  passChannels(ctx, x, out);
};

const pixelShuffle: Emitter = (layer, p, ctx) => {
  const factor = p.num(0, 1);
  const mode = p.num(1, 0) === 0 ? 'CRD' : 'DCR';
  const x = ctx.tensor(only(layer.inputs, layer, 'input'));
  const out = ctx.g.op('DepthToSpace', [x], { blocksize: factor, mode }, ctx.produce(only(layer.outputs, layer, 'output')));
  const c = ctx.channels.get(x);
  if (c !== undefined) ctx.channels.set(out, c / (factor * factor));
};

const split: Emitter = (layer, _p, ctx) => {
  const x = ctx.tensor(only(layer.inputs, layer, 'input'));
  for (const blob of layer.outputs) ctx.alias(blob, x);
};

/** The layer set of the Real-ESRGAN graphs (Input is handled by the converter itself). */
export const EMITTERS: Readonly<Record<string, Emitter>> = Object.freeze({
  Split: split,
  Convolution: convolution,
  PReLU: prelu,
  Eltwise: eltwise,
  BinaryOp: binaryOp,
  Concat: concat,
  Interp: interp,
  PixelShuffle: pixelShuffle,
});

export function emitLayer(layer: NcnnLayer, ctx: EmitContext): void {
  const emit = EMITTERS[layer.type];
  if (!emit) {
    throw new NcnnFormatError(
      `ncnn layer type ${layer.type} (layer ${layer.name}) is not supported; supported: Input, ${Object.keys(EMITTERS).join(', ')}`,
    );
  }
  emit(layer, new LayerParams(layer), ctx);
}
