import * as R from './tf-reference.js';
import type { Tensor } from './tf-reference.js';

/**
 * Runs a TF.js graph model directly on the reference ops, with its own reading of the weights
 * manifest: "the same network checked another way" for the importer's converted graphs.
 */

interface Node {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; i?: string | number; f?: number; b?: boolean; type?: string; list?: { i?: (string | number)[]; s?: string[] } }>;
}

interface ModelJson {
  modelTopology: { node: Node[] };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: string; min?: number; scale?: number } }[] }[];
}

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function readWeights(json: ModelJson, shards: ReadonlyMap<string, Uint8Array>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const group of json.weightsManifest) {
    const bytes = Buffer.concat(group.paths.map((p) => shards.get(p)!));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      const vals: number[] = [];
      for (let i = 0; i < n; i++) {
        if (q?.dtype === 'float16') vals.push(half(view.getUint16(at + 2 * i, true)));
        else if (q?.dtype === 'uint8') vals.push(view.getUint8(at + i) * q.scale! + q.min!);
        else if (w.dtype === 'int32') vals.push(view.getInt32(at + 4 * i, true));
        else vals.push(view.getFloat32(at + 4 * i, true));
      }
      at += n * (q?.dtype === 'float16' ? 2 : q?.dtype === 'uint8' ? 1 : 4);
      out.set(w.name, R.tensor(w.shape, w.dtype === 'int32' ? vals.map(Math.round) : vals, w.dtype === 'int32'));
    }
  }
  return out;
}

const text = (s?: string) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString());
const ints = (node: Node, key: string) => (node.attr?.[key]?.list?.i ?? []).map(Number);
const flag = (node: Node, key: string) => node.attr?.[key]?.b ?? false;

function convOptions(node: Node): R.ConvOptions {
  const s = ints(node, 'strides');
  const d = ints(node, 'dilations');
  return { padding: text(node.attr?.padding?.s) as 'SAME' | 'VALID', strides: [s[1] ?? 1, s[2] ?? 1], dilations: [d[1] ?? 1, d[2] ?? 1] };
}

const relu6 = (v: number) => Math.min(Math.max(v, 0), 6);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** BiasAdd plus the one activation grappler fused into a conv. */
function fused(node: Node, y: Tensor, args: Tensor[]): Tensor {
  const ops = (node.attr?.fused_ops?.list?.s ?? []).map((s) => text(s));
  let out = y;
  for (const op of ops) {
    if (op === 'BiasAdd') out = R.binary(out, args[0]!, (a, b) => a + b);
    else if (op === 'Relu') out = R.map(out, (v) => Math.max(v, 0));
    else if (op === 'Relu6') out = R.map(out, relu6);
    else throw new Error(`interpreter: fused op ${op}`);
  }
  return out;
}

type Impl = (node: Node, inputs: Tensor[]) => Tensor[];
const add = (a: number, b: number) => a + b;
const one = (f: (node: Node, inputs: Tensor[]) => Tensor): Impl => (node, inputs) => [f(node, inputs)];

const OPS: Record<string, Impl> = {
  Identity: one((_n, [x]) => x!),
  Conv2D: one((n, [x, f]) => R.conv2d(x!, f!, convOptions(n))),
  _FusedConv2D: one((n, [x, f, ...args]) => fused(n, R.conv2d(x!, f!, convOptions(n)), args)),
  DepthwiseConv2dNative: one((n, [x, f]) => R.depthwiseConv2d(x!, f!, convOptions(n))),
  FusedDepthwiseConv2dNative: one((n, [x, f, ...args]) => fused(n, R.depthwiseConv2d(x!, f!, convOptions(n)), args)),
  Conv2DBackpropInput: one((n, [sizes, f, dy]) => R.conv2dTranspose(dy!, f!, Array.from(sizes!.data), convOptions(n))),
  MaxPool: one((n, [x]) => { const k = ints(n, 'ksize'); return R.pool(x!, [k[1]!, k[2]!], convOptions(n), 'max'); }),
  AvgPool: one((n, [x]) => { const k = ints(n, 'ksize'); return R.pool(x!, [k[1]!, k[2]!], convOptions(n), 'avg'); }),
  ResizeBilinear: one((n, [x, s]) => R.resizeBilinear(x!, s!.data[0]!, s!.data[1]!, flag(n, 'align_corners'), flag(n, 'half_pixel_centers'))),
  Add: one((_n, [a, b]) => R.binary(a!, b!, add)),
  AddV2: one((_n, [a, b]) => R.binary(a!, b!, add)),
  BiasAdd: one((_n, [a, b]) => R.binary(a!, b!, add)),
  AddN: one((_n, xs) => xs.slice(1).reduce((s, x) => R.binary(s, x, add), xs[0]!)),
  Sub: one((_n, [a, b]) => R.binary(a!, b!, (x, y) => x - y)),
  Mul: one((_n, [a, b]) => R.binary(a!, b!, (x, y) => x * y)),
  FloorDiv: one((_n, [a, b]) => R.binary(a!, b!, (x, y) => Math.floor(x / y))),
  FloorMod: one((_n, [a, b]) => R.binary(a!, b!, (x, y) => x - Math.floor(x / y) * y)),
  Equal: one((_n, [a, b]) => R.binary(a!, b!, (x, y) => (x === y ? 1 : 0), true)),
  Relu: one((_n, [x]) => R.map(x!, (v) => Math.max(v, 0))),
  Relu6: one((_n, [x]) => R.map(x!, relu6)),
  LeakyRelu: one((n, [x]) => { const a = n.attr?.alpha?.f ?? 0.2; return R.map(x!, (v) => (v < 0 ? a * v : v)); }),
  Sigmoid: one((_n, [x]) => R.map(x!, sigmoid)),
  Cast: one((n, [x]) => R.tensor(x!.shape, Array.from(x!.data, n.attr?.DstT?.type === 'DT_FLOAT' ? (v) => v : Math.trunc), n.attr?.DstT?.type !== 'DT_FLOAT')),
  Mean: one((n, [x, axes]) => R.reduce(x!, Array.from(axes!.data), flag(n, 'keep_dims'), 'mean')),
  Reshape: one((_n, [x, s]) => {
    const target = Array.from(s!.data);
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return { ...x!, shape: target.map((d) => (d === -1 ? x!.data.length / known : d)) };
  }),
  ExpandDims: one((_n, [x, d]) => {
    let a = d!.data[0]!;
    if (a < 0) a += x!.shape.length + 1;
    return { ...x!, shape: [...x!.shape.slice(0, a), 1, ...x!.shape.slice(a)] };
  }),
  ConcatV2: one((_n, xs) => R.concat(xs.slice(0, -1), xs.at(-1)!.data[0]!)),
  Transpose: one((_n, [x, p]) => R.transpose(x!, Array.from(p!.data))),
  Pad: one((_n, [x, p]) => R.pad(x!, Array.from(p!.data))),
  PadV2: one((_n, [x, p, v]) => R.pad(x!, Array.from(p!.data), v!.data[0])),
  SplitV: (_n, [x, sizes, dim]) => {
    let at = 0;
    return Array.from(sizes!.data, (len) => { const t = R.sliceAxis(x!, dim!.data[0]!, at, len); at += len; return t; });
  },
  StridedSlice: one((n, [x, b, e, s]) =>
    R.stridedSlice(x!, Array.from(b!.data), Array.from(e!.data), Array.from(s!.data), {
      begin: Number(n.attr?.begin_mask?.i ?? 0), end: Number(n.attr?.end_mask?.i ?? 0), shrink: Number(n.attr?.shrink_axis_mask?.i ?? 0),
    })),
  GatherV2: one((_n, [p, i, a]) => R.gather(p!, i!, a!.data[0]!)),
  TopKV2: (_n, [x, k]) => { const r = R.topK(x!, k!.data[0]!); return [r.values, r.indices]; },
  MatMul: one((n, [a, b]) => R.matMul(a!, b!, flag(n, 'transpose_a'), flag(n, 'transpose_b'))),
  SparseToDense: one((_n, [idx, shape, vals, dflt]) => {
    const s = Array.from(shape!.data);
    const out = new Array<number>(s.reduce((a, b) => a * b, 1)).fill(dflt!.data[0]!);
    Array.from(idx!.data).forEach((flat, i) => (out[flat] = vals!.data.length > 1 ? vals!.data[i]! : vals!.data[0]!));
    return R.tensor(s, out, true);
  }),
};

/** Evaluates the graph for `feeds` (by Placeholder name) and returns the named outputs. */
export function interpret(modelJson: string, shards: ReadonlyMap<string, Uint8Array>, feeds: Record<string, Tensor>, outputs: string[]): Record<string, Tensor> {
  const json = JSON.parse(modelJson) as ModelJson;
  const weights = readWeights(json, shards);
  const byName = new Map(json.modelTopology.node.map((n) => [n.name, n]));
  const dataInputs = (n: Node) => (n.input ?? []).filter((i) => !i.startsWith('^'));
  const key = (ref: string) => (/:\d+$/.test(ref) ? ref : `${ref}:0`);
  // Each intermediate is dropped once its last reader has run: centernet's would not fit in the heap.
  const readers = new Map<string, number>();
  for (const n of json.modelTopology.node) for (const i of dataInputs(n)) readers.set(key(i), (readers.get(key(i)) ?? 0) + 1);
  for (const o of outputs) readers.set(key(o), Infinity);
  const values = new Map<string, Tensor>();
  const release = (ref: string) => {
    const k = key(ref);
    const left = (readers.get(k) ?? 1) - 1;
    readers.set(k, left);
    if (left <= 0) values.delete(k);
  };
  const evaluate = (ref: string): Tensor => {
    const k = key(ref);
    const name = k.slice(0, k.lastIndexOf(':'));
    const known = values.get(k);
    if (known) return known;
    const node = byName.get(name)!;
    let results: Tensor[];
    if (node.op === 'Placeholder') results = [feeds[name]!];
    else if (node.op === 'Const') results = [weights.get(name)!];
    else {
      const impl = OPS[node.op];
      if (!impl) throw new Error(`interpreter: no reference for ${node.op}`);
      const inputs = dataInputs(node);
      results = impl(node, inputs.map(evaluate));
      inputs.forEach(release);
    }
    results.forEach((t, i) => values.set(`${name}:${i}`, t));
    return values.get(k)!;
  };
  return Object.fromEntries(outputs.map((o) => [o, evaluate(o)]));
}
