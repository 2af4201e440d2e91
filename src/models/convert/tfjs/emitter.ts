import type { GraphBuilder } from '../../onnx/graph-builder.js';
import { Attrs, TfjsFormatError, type NodeDef } from './model-json.js';
import type { ConstTensor, DType } from './weights.js';

/** What a TF tensor reference resolves to: a constant (folded in JS) or a tensor of the ONNX graph. */
export type Value = { kind: 'const'; tensor: ConstTensor } | { kind: 'tensor'; name: string; dtype: DType };

export const constValue = (tensor: ConstTensor): Value => ({ kind: 'const', tensor });

/** NHWC ↔ NCHW, the two permutations around every layout-bound op. */
export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

const ONNX_TYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };
export const onnxType = (t: DType) => ONNX_TYPE[t];

/** A tensor reference is `node`, `node:k` (k-th output) or `^node` (a control edge). */
function parseRef(ref: string): { node: string; index: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(ref)!;
  return { node: m[1]!, index: m[2] === undefined ? 0 : Number(m[2]) };
}

/**
 * The state of one conversion: which ONNX tensor or constant each TF output became, and helpers
 * that emit the small patterns every op needs (int64 operands, transposes).
 */
export class Emitter {
  private readonly values = new Map<string, Value>();
  private readonly materialised = new Map<ConstTensor, string>();
  /** Tensors made by transpose(): where they came from, so a transpose of one can be cancelled. */
  private readonly transposed = new Map<string, { source: string; perm: number[] }>();
  private readonly transposeCache = new Map<string, string>();

  constructor(
    readonly g: GraphBuilder,
    readonly model: string,
  ) {}

  fail(node: NodeDef, problem: string): never {
    throw new TfjsFormatError(`${this.model}: ${node.op} node ${node.name}: ${problem}`);
  }

  attrs(node: NodeDef): Attrs {
    return new Attrs(node, this.model);
  }

  set(node: string, outputs: Value[]): void {
    outputs.forEach((v, i) => this.values.set(i === 0 ? node : `${node}:${i}`, v));
  }

  /** The data inputs of a node (control edges dropped), resolved. */
  inputs(node: NodeDef): Value[] {
    return node.input.filter((r) => !r.startsWith('^')).map((ref) => {
      const { node: src, index } = parseRef(ref);
      const v = this.values.get(index === 0 ? src : `${src}:${index}`);
      if (!v) this.fail(node, `input ${ref} is not produced by any node before it`);
      return v;
    });
  }

  /** An input that must be a constant (a shape, an axis, a permutation). */
  constant(node: NodeDef, v: Value | undefined, what: string): ConstTensor {
    if (!v) this.fail(node, `has no ${what} input`);
    if (v.kind !== 'const') this.fail(node, `its ${what} is computed at run time; only constant ${what}s are converted`);
    return v.tensor;
  }

  ints(node: NodeDef, v: Value | undefined, what: string): number[] {
    return Array.from(this.constant(node, v, what).data);
  }

  /** The ONNX tensor name of a value; a constant becomes an initializer on first use. */
  name(v: Value): string {
    if (v.kind === 'tensor') return v.name;
    const known = this.materialised.get(v.tensor);
    if (known) return known;
    const { dtype, shape, data } = v.tensor;
    const name = this.g.fresh('const');
    if (dtype === 'int64') this.g.initializer(name, shape, BigInt64Array.from(data, (x) => BigInt(x)));
    else if (dtype === 'bool') this.g.initializer(name, shape, Uint8Array.from(data), 'bool');
    else this.g.initializer(name, shape, dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data));
    this.materialised.set(v.tensor, name);
    return name;
  }

  /** A new int64 initializer (ONNX shape operands are int64; TF.js stores every integer as int32). */
  int64(values: readonly number[], shape: number[] = [values.length]): string {
    return this.name(constValue({ dtype: 'int64', shape, data: Int32Array.from(values) }));
  }

  floatScalar(value: number): string {
    return this.name(constValue({ dtype: 'float32', shape: [], data: new Float32Array([value]) }));
  }

  /** A value as an int64 tensor: constants are re-typed, run-time int32 tensors cast. */
  asInt64(v: Value): string {
    if (v.kind === 'const') return this.int64(Array.from(v.tensor.data), v.tensor.shape);
    return v.dtype === 'int64' ? v.name : this.g.op('Cast', [v.name], { to: ONNX_TYPE.int64 });
  }

  /**
   * Transposes, composing with a transpose this emitter made: NCHW(NHWC(x)) is x itself, so
   * consecutive layout-bound ops (and the NCHW↔NHWC pairs of ONNX→TF exports) leave no transposes.
   */
  transpose(name: string, perm: readonly number[]): string {
    const origin = this.transposed.get(name);
    const [source, composed] = origin ? [origin.source, perm.map((p) => origin.perm[p]!)] : [name, [...perm]];
    if (composed.every((p, i) => p === i)) return source;
    const key = `${source}|${composed.join(',')}`;
    const cached = this.transposeCache.get(key);
    if (cached) return cached;
    const out = this.g.op('Transpose', [source], { perm: composed });
    this.transposed.set(out, { source, perm: composed });
    this.transposeCache.set(key, out);
    return out;
  }
}
