import onnxProto from 'onnx-proto';
import { floatValues } from '../raw-data.js';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;

type Graph = onnxProto.onnx.IGraphProto;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

/** A tensor's observed value range over the calibration set. */
export interface Range {
  min: number;
  max: number;
}

/**
 * Ops whose float outputs are quantised: what the convolutions read and write, so onnxruntime can
 * fuse each `DequantizeLinear → Conv → QuantizeLinear` into one QLinearConv (u8 activations, s8
 * weights: the VNNI dot product). On ISNet it also makes QLinearAdd of the adds and runs MaxPool
 * on u8; Resize keeps a DQ/Q pair around a float resize. A Relu's output is quantised instead of
 * the Conv's before it: with zero point 0 the Relu is folded away (onnxruntime's ReluQuantFusion).
 */
const QUANTISED_OUTPUTS = new Set(['Conv', 'Relu', 'Add', 'MaxPool', 'Resize', 'Concat']);

/** Ops whose outputs are float whenever their (first) input is. */
const FLOAT_PRODUCERS = new Set([...QUANTISED_OUTPUTS, 'Sigmoid']);

/**
 * Removes `Cast(to = float)` of tensors that are float already (what widening an fp16 export
 * leaves): they sit between a Conv and its Relu or Resize and would stop the int8 fusions.
 * Returns how many went.
 */
export function dropFloatCasts(graph: Graph): number {
  const isFloat = floatTest(graph);
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name));
  // Node lists need not be in topological order (onnxruntime sorts them), so find every cast first.
  const replaced = new Map<string, string>();
  for (const n of graph.node ?? []) {
    const to = Number(n.attribute?.find((a) => a.name === 'to')?.i);
    const y = n.output?.[0];
    if (n.opType === 'Cast' && to === T.FLOAT && y && !graphOutputs.has(y) && isFloat(n.input?.[0] ?? '')) replaced.set(y, n.input![0]!);
  }
  const resolve = (name: string): string => (replaced.has(name) ? resolve(replaced.get(name)!) : name);
  graph.node = (graph.node ?? []).filter((n) => !replaced.has(n.output?.[0] ?? ''));
  for (const n of graph.node) n.input = (n.input ?? []).map(resolve);
  return replaced.size;
}

/** Whether a tensor is float, from the graph's float inputs through float-preserving ops. */
function floatTest(graph: Graph): (name: string) => boolean {
  const producer = new Map<string, Node>();
  for (const n of graph.node ?? []) n.output?.forEach((o) => producer.set(o, n));
  const floatInputs = new Set((graph.input ?? []).filter((i) => i.type?.tensorType?.elemType === T.FLOAT).map((i) => i.name));
  const memo = new Map<string, boolean>();
  const isFloat = (name: string): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    memo.set(name, false); // a cycle is not float
    const p = producer.get(name);
    let result = floatInputs.has(name);
    if (p?.opType === 'Cast') result = Number(p.attribute?.find((a) => a.name === 'to')?.i) === T.FLOAT;
    else if (p && FLOAT_PRODUCERS.has(p.opType ?? '')) result = isFloat(p.input?.[0] ?? '');
    memo.set(name, result);
    return result;
  };
  return isFloat;
}

/** The float activation tensors the quantiser would quantise: calibration measures exactly these. */
export function activationTensors(graph: Graph): string[] {
  const readers = readersOf(graph);
  const isFloat = floatTest(graph);
  const out: string[] = [];
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name));
  for (const n of graph.node ?? []) {
    if (!QUANTISED_OUTPUTS.has(n.opType ?? '')) continue;
    const y = n.output?.[0];
    if (!y || graphOutputs.has(y) || !isFloat(y)) continue;
    const rs = readers.get(y) ?? [];
    // A Conv read only by a Relu: the Relu's output carries the range (see QUANTISED_OUTPUTS).
    if (n.opType === 'Conv' && rs.length === 1 && rs[0]!.opType === 'Relu') continue;
    if (rs.some((r) => r.opType !== 'Shape')) out.push(y);
  }
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Conv') continue;
    const x = n.input?.[0];
    if (x && !out.includes(x)) out.push(x);
  }
  return out;
}

function readersOf(graph: Graph): Map<string, Node[]> {
  const readers = new Map<string, Node[]>();
  for (const n of graph.node ?? []) {
    for (const i of n.input ?? []) {
      const list = readers.get(i);
      if (list) list.push(n);
      else readers.set(i, [n]);
    }
  }
  return readers;
}

const scalar = (name: string, dataType: number, bytes: ArrayBufferView): Tensor => ({
  name, dataType, dims: [], rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
});
const vector = (name: string, dataType: number, bytes: ArrayBufferView, length: number): Tensor => ({
  name, dataType, dims: [length], rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
});

/** u8 affine parameters covering [min, max] and 0, so zero (padding, a Relu's floor) is exact. */
export function affineU8(range: Range): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, range.min);
  const hi = Math.max(0, range.max);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

/**
 * Symmetric per-output-channel s8 weights: each channel's scale is its largest magnitude / 127,
 * so -127..127 is used and zero stays exact. Returns the quantised values and the scales.
 */
export function quantiseWeights(w: Float32Array, channels: number): { q: Int8Array; scales: Float32Array } {
  const per = w.length / channels;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let peak = 0;
    for (let i = c * per; i < (c + 1) * per; i++) peak = Math.max(peak, Math.abs(w[i]!));
    const s = peak > 0 ? peak / 127 : 1;
    scales[c] = s;
    for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / s)));
  }
  return { q, scales };
}

/**
 * Rewrites a float model as static QDQ int8, onnxruntime's format for quantised CPU inference:
 * every tensor of `activationTensors` gets `QuantizeLinear → DequantizeLinear` with the u8
 * parameters of its calibrated range, and every group-1 Conv reads s8 per-channel weights and an
 * s32 bias (scale = input scale × weight scale) through DequantizeLinear. Everything else stays
 * float. A tensor missing from `ranges` is an error naming it: an unquantised one would break the
 * fusion silently.
 */
export function quantiseQdq(graph: Graph, ranges: ReadonlyMap<string, Range>): void {
  const tensors = activationTensors(graph);
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const added: Tensor[] = [];
  /** u8 parameters by the dequantised tensor's name, which is what a Conv reads after the rename. */
  const params = new Map<string, { scale: number; zeroPoint: number }>();
  const rename = new Map<string, string>();
  const qdqNodes = new Map<string, Node[]>();
  for (const name of tensors) {
    const range = ranges.get(name);
    if (!range) throw new Error(`int8: no calibrated range for tensor ${name}`);
    const p = affineU8(range);
    const [scaleName, zpName, qName, dqName] = [`${name}_scale`, `${name}_zero_point`, `${name}_quantized`, `${name}_dequantized`];
    added.push(scalar(scaleName, T.FLOAT, new Float32Array([p.scale])), scalar(zpName, T.UINT8, new Uint8Array([p.zeroPoint])));
    qdqNodes.set(name, [
      { opType: 'QuantizeLinear', name: `${name}_QuantizeLinear`, input: [name, scaleName, zpName], output: [qName] },
      { opType: 'DequantizeLinear', name: `${name}_DequantizeLinear`, input: [qName, scaleName, zpName], output: [dqName] },
    ]);
    rename.set(name, dqName);
    params.set(dqName, p);
  }

  const weightNodes: Node[] = [];
  const weightScales = new Map<string, Float32Array>();
  for (const n of graph.node ?? []) {
    n.input = (n.input ?? []).map((i) => rename.get(i) ?? i);
    if (n.opType !== 'Conv') continue;
    const group = Number(n.attribute?.find((a) => a.name === 'group')?.i ?? 1);
    const [x, wName, bName] = n.input;
    const w = wName ? initializers.get(wName) : undefined;
    const xParams = x ? params.get(x) : undefined;
    if (group !== 1 || !w || w.dataType !== T.FLOAT || !xParams) continue;
    const channels = Number(w.dims![0]);
    const base = wName!;
    let scales = weightScales.get(base);
    if (!scales) {
      const quantised = quantiseWeights(floatValues(w), channels);
      scales = quantised.scales;
      weightScales.set(base, scales);
      added.push(
        { name: `${base}_quantized`, dataType: T.INT8, dims: w.dims, rawData: new Uint8Array(quantised.q.buffer) },
        vector(`${base}_scale`, T.FLOAT, scales, channels),
        vector(`${base}_zero_point`, T.INT8, new Int8Array(channels), channels),
      );
      weightNodes.push({
        opType: 'DequantizeLinear', name: `${base}_DequantizeLinear`, input: [`${base}_quantized`, `${base}_scale`, `${base}_zero_point`],
        output: [`${base}_dequantized`], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      });
    }
    n.input[1] = `${base}_dequantized`;
    const b = bName ? initializers.get(bName) : undefined;
    if (b && b.dataType === T.FLOAT) {
      const bias = floatValues(b);
      const bScales = scales.map((v) => v * xParams.scale);
      const bq = Int32Array.from(bias, (v, c) => Math.round(v / bScales[c]!));
      const bBase = `${bName}_for_${n.name ?? base}`;
      added.push(vector(`${bBase}_quantized`, T.INT32, bq, channels), vector(`${bBase}_scale`, T.FLOAT, bScales, channels));
      weightNodes.push({
        opType: 'DequantizeLinear', name: `${bBase}_DequantizeLinear`, input: [`${bBase}_quantized`, `${bBase}_scale`],
        output: [`${bBase}_dequantized`], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      });
      n.input[2] = `${bBase}_dequantized`;
    }
  }

  // Each Q/DQ pair goes right after the node producing its tensor (or first, for a graph input).
  const out: Node[] = [...weightNodes];
  const graphInputs = new Set((graph.input ?? []).map((i) => i.name));
  for (const name of tensors) if (graphInputs.has(name)) out.push(...qdqNodes.get(name)!);
  for (const n of graph.node ?? []) {
    out.push(n);
    for (const o of n.output ?? []) if (qdqNodes.has(o)) out.push(...qdqNodes.get(o)!);
  }
  graph.node = out;
  const used = new Set(out.flatMap((n) => n.input ?? []));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => used.has(t.name ?? '')), ...added];
}
