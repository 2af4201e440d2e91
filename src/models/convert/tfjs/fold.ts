import type { Emitter } from './emitter.js';
import type { NodeDef } from './model-json.js';
import type { ConstTensor, DType } from './weights.js';

/**
 * Ops evaluated at conversion time when every input is a constant. The exported graphs build
 * shapes this way (NanoDet's reshape targets are `[1, 80, -1] + SparseToDense(nothing)`), and
 * SparseToDense has no ONNX counterpart, so it must fold.
 */
export type Folder = (node: NodeDef, ctx: Emitter, inputs: ConstTensor[]) => ConstTensor[];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function make(dtype: DType, shape: number[], values: ArrayLike<number>): ConstTensor {
  const data = dtype === 'float32' ? Float32Array.from(values) : dtype === 'bool' ? Uint8Array.from(values) : Int32Array.from(values);
  return { dtype, shape, data };
}

/** NumPy broadcasting, as TF's binary ops define it. */
function broadcast(node: NodeDef, ctx: Emitter, a: ConstTensor, b: ConstTensor, f: (x: number, y: number) => number, dtype = a.dtype): ConstTensor {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...Array(rank - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => {
    const e = pb[i]!;
    if (d !== e && d !== 1 && e !== 1) ctx.fail(node, `shapes [${a.shape}] and [${b.shape}] do not broadcast`);
    return d === 1 ? e : d;
  });
  const out = new Array<number>(size(shape));
  const idx = new Array<number>(rank).fill(0);
  for (let n = 0; n < out.length; n++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < rank; k++) {
      ia = ia * pa[k]! + (pa[k] === 1 ? 0 : idx[k]!);
      ib = ib * pb[k]! + (pb[k] === 1 ? 0 : idx[k]!);
    }
    out[n] = f(a.data[ia]!, b.data[ib]!);
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return make(dtype, shape, out);
}

/** Integers and floats alike: int32 values are exact in a double, and floor division of them is too. */
function binary(f: (x: number, y: number) => number): Folder {
  return (node, ctx, [a, b]) => [broadcast(node, ctx, a!, b!, f)];
}

function reshape(node: NodeDef, ctx: Emitter, t: ConstTensor, target: number[]): ConstTensor {
  const known = target.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const shape = target.map((d) => (d === -1 ? t.data.length / known : d));
  if (size(shape) !== t.data.length) ctx.fail(node, `cannot reshape ${t.data.length} values to [${target.join(', ')}]`);
  return { ...t, shape };
}

/** A TF dtype attribute as the importer's dtype; TF.js holds int64 as int32 throughout. */
export function tfDType(node: NodeDef, ctx: Emitter, key: string): DType {
  const t = ctx.attrs(node).type(key);
  if (t === 'DT_FLOAT') return 'float32';
  if (t === 'DT_INT32' || t === 'DT_INT64') return 'int32';
  if (t === 'DT_BOOL') return 'bool';
  return ctx.fail(node, `type ${t ?? '(none)'} is not supported`);
}

export const FOLDERS: Record<string, Folder> = {
  Identity: (_n, _c, [x]) => [x!],
  /** TF's Cast truncates toward zero from float to int. */
  Cast: (node, ctx, [x]) => {
    const to = tfDType(node, ctx, 'DstT');
    const f = to === 'bool' ? (v: number) => (v !== 0 ? 1 : 0) : to === 'int32' ? Math.trunc : (v: number) => v;
    return [make(to, x!.shape, Array.from(x!.data, f))];
  },
  Add: binary((x, y) => x + y),
  AddV2: binary((x, y) => x + y),
  Sub: binary((x, y) => x - y),
  Mul: binary((x, y) => x * y),
  FloorDiv: binary((x, y) => Math.floor(x / y)),
  FloorMod: binary((x, y) => x - Math.floor(x / y) * y),
  Maximum: binary((x, y) => Math.max(x, y)),
  Minimum: binary((x, y) => Math.min(x, y)),
  Reshape: (node, ctx, [x, shape]) => [reshape(node, ctx, x!, Array.from(shape!.data))],
  ExpandDims: (node, ctx, [x, dim]) => {
    const rank = x!.shape.length;
    let d = dim!.data[0]!;
    if (d < 0) d += rank + 1;
    return [reshape(node, ctx, x!, [...x!.shape.slice(0, d), 1, ...x!.shape.slice(d)])];
  },
  /** SparseToDense(indices [n, r] | [n] | scalar, output_shape, values [n] | scalar, default). */
  SparseToDense: (node, ctx, [indices, outputShape, values, fallback]) => {
    const shape = Array.from(outputShape!.data);
    const out = new Array<number>(size(shape)).fill(fallback!.data[0] ?? 0);
    const r = indices!.shape.length === 2 ? indices!.shape[1]! : 1;
    const n = indices!.shape.length === 0 ? 1 : indices!.shape[0]!;
    for (let i = 0; i < n; i++) {
      let flat = 0;
      for (let k = 0; k < r; k++) flat = flat * (shape[k] ?? 1) + indices!.data[i * r + k]!;
      if (flat < 0 || flat >= out.length) ctx.fail(node, `index ${flat} is outside the output shape [${shape}]`);
      out[flat] = values!.shape.length === 0 ? values!.data[0]! : values!.data[i]!;
    }
    return [make(values!.dtype, shape, out)];
  },
};
