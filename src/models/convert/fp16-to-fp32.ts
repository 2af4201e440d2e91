import onnxProto from 'onnx-proto';
import { halfToFloat } from './half.js';
import { rawBuffer } from './raw-data.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

type Tensor = onnxProto.onnx.ITensorProto;

/** fp16 data lives in raw_data, or as one value per int32 in int32_data. */
function halves(t: Tensor): Uint16Array {
  const raw = rawBuffer(t);
  return raw ? new Uint16Array(raw) : Uint16Array.from(t.int32Data ?? []);
}

function widen(t: Tensor | null | undefined): void {
  if (!t || t.dataType !== FLOAT16) return;
  t.rawData = new Uint8Array(halfToFloat(halves(t)).buffer);
  t.int32Data = [];
  t.dataType = FLOAT;
}

function widenNode(node: onnxProto.onnx.INodeProto): void {
  for (const attr of node.attribute ?? []) {
    if (attr.g || (attr.graphs && attr.graphs.length > 0)) {
      throw new Error(`fp16-to-fp32: node ${node.name ?? node.opType} has a subgraph, which this converter does not rewrite`);
    }
    widen(attr.t);
    attr.tensors?.forEach(widen);
    if (node.opType === 'Cast' && attr.name === 'to' && Number(attr.i) === FLOAT16) attr.i = FLOAT;
  }
}

/**
 * Rewrites an ONNX model stored in half precision to single precision: fp16 initializers and
 * constants are widened exactly, casts to fp16 become (no-op) casts to fp32, declared types follow.
 * On CPU, onnxruntime runs an fp16 graph by inserting casts around most nodes. IMG.LY's ISNet
 * "medium" widened this way gives a mask within 5e-5 and runs faster: session.run p50 851 ms vs
 * 900 ms, 5–10 % less CPU per image (npm run bench:remove-background, 2 cores).
 */
export function widenFp16Model(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('fp16-to-fp32: the file holds no graph');
  graph.initializer?.forEach(widen);
  graph.node?.forEach(widenNode);
  for (const info of [...(graph.valueInfo ?? []), ...(graph.input ?? []), ...(graph.output ?? [])]) {
    const tensorType = info.type?.tensorType;
    if (tensorType?.elemType === FLOAT16) tensorType.elemType = FLOAT;
  }
  return onnx.ModelProto.encode(model).finish();
}
