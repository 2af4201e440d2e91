import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { convertTfjsToOnnx } from '../../src/models/convert/tfjs/convert.js';
import { toHalf } from '../kit/numbers.js';
import type { Tensor } from './tf-reference.js';

/** TF.js attribute values as model.json writes them. */
export const attr = {
  s: (v: string) => ({ s: Buffer.from(v).toString('base64') }),
  i: (v: number) => ({ i: String(v) }),
  f: (v: number) => ({ f: v }),
  b: (v: boolean) => ({ b: v }),
  type: (t: string) => ({ type: t }),
  ints: (v: number[]) => ({ list: { i: v.map(String) } }),
  strs: (v: string[]) => ({ list: { s: v.map((s) => Buffer.from(s).toString('base64')) } }),
};

/** The attributes every NHWC spatial op carries. */
export const nhwc = (padding: 'SAME' | 'VALID', strides = [1, 1], dilations = [1, 1]) => ({
  padding: attr.s(padding), data_format: attr.s('NHWC'), strides: attr.ints([1, ...strides, 1]), dilations: attr.ints([1, ...dilations, 1]),
});

type Quant = 'float16' | 'uint8';

/** Builds a TF.js graph model (model.json text and one weights shard) in a test. */
export class TfjsGraph {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly weights: Record<string, unknown>[] = [];
  private readonly bytes: Uint8Array[] = [];
  private readonly inputs: Record<string, unknown> = {};

  input(name: string, shape: number[], dtype = 'DT_FLOAT'): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: attr.type(dtype), shape: { shape: { dim: shape.map((s) => ({ size: String(s) })) } } } });
    this.inputs[`${name}:0`] = { name: `${name}:0`, dtype };
    return name;
  }

  /** A constant; float weights may be stored float16 or uint8-quantised (q · scale + min). */
  const(name: string, shape: number[], values: ArrayLike<number>, opts: { int?: boolean; quant?: Quant } = {}): string {
    const data = Array.from(values);
    const weight: Record<string, unknown> = { name, shape, dtype: opts.int ? 'int32' : 'float32' };
    if (opts.int) this.bytes.push(new Uint8Array(Int32Array.from(data).buffer));
    else if (opts.quant === 'float16') {
      weight.quantization = { dtype: 'float16' };
      this.bytes.push(new Uint8Array(Uint16Array.from(data, toHalf).buffer));
    } else if (opts.quant === 'uint8') {
      const min = Math.min(...data);
      const scale = (Math.max(...data) - min) / 255 || 1;
      weight.quantization = { dtype: 'uint8', min, scale };
      this.bytes.push(Uint8Array.from(data, (v) => Math.round((v - min) / scale)));
    } else this.bytes.push(new Uint8Array(Float32Array.from(data).buffer));
    this.weights.push(weight);
    this.nodes.push({ name, op: 'Const', attr: { dtype: attr.type(opts.int ? 'DT_INT32' : 'DT_FLOAT') } });
    return name;
  }

  op(op: string, name: string, input: string[], attrs: Record<string, unknown> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: attr.type('DT_FLOAT'), ...attrs } });
    return name;
  }

  /** model.json text (signature outputs as given) and its shard, `name.bin`. */
  build(outputs: string[], name = 'test-model'): { json: string; shards: Map<string, Uint8Array> } {
    const json = {
      format: 'graph-model',
      generatedBy: 'test',
      signature: { inputs: this.inputs, outputs: Object.fromEntries(outputs.map((o) => [o, { name: o }])) },
      modelTopology: { node: this.nodes },
      weightsManifest: [{ paths: [`${name}.bin`], weights: this.weights }],
    };
    return { json: JSON.stringify(json), shards: new Map([[`${name}.bin`, Buffer.concat(this.bytes)]]) };
  }
}

/** The ONNX output name of a TF output reference (`node:1` → `node_1`). */
export const onnxName = (ref: string) => ref.replace(/:0$/, '').replace(/:(\d+)$/, '_$1');

function ortTensor(t: Tensor): ort.Tensor {
  return t.data instanceof Int32Array ? new ort.Tensor('int32', t.data, t.shape) : new ort.Tensor('float32', t.data, t.shape);
}

/** Runs an ONNX model (bytes) on TF-named feeds and returns the outputs as reference tensors. */
export async function runOnnx(model: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(model);
  const out = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, ortTensor(v)])));
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { shape: [...v.dims], data: v.data as Float32Array | Int32Array }]));
}

/** Converts a test graph and runs it on `feeds`; outputs keyed by their TF references. */
export async function convertAndRun(graph: TfjsGraph, outputs: string[], feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const { json, shards } = graph.build(outputs);
  const result = await runOnnx(convertTfjsToOnnx(json, shards, 'test-model'), feeds);
  return Object.fromEntries(outputs.map((o) => [o, result[onnxName(o)]!]));
}

/** How many nodes of each op the converted model has (to check transposes cancel). */
export function opCounts(model: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of onnxProto.onnx.ModelProto.decode(model).graph?.node ?? []) counts[n.opType!] = (counts[n.opType!] ?? 0) + 1;
  return counts;
}
