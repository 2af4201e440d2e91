import { encodeModel, GraphBuilder, type Dim } from '../../onnx/graph-builder.js';
import { keepOutputs } from '../keep-outputs.js';
import { constValue, Emitter, type Value } from './emitter.js';
import { FOLDERS, tfDType } from './fold.js';
import { parseGraphModel, TfjsFormatError, type GraphModelJson, type NodeDef, type SignatureTensor } from './model-json.js';
import { SPATIAL_OPS, type OpEmitter } from './ops-spatial.js';
import { TENSOR_OPS } from './ops-tensor.js';
import { readWeights } from './weights.js';

export { TfjsFormatError } from './model-json.js';

const OPS: Record<string, OpEmitter> = { ...SPATIAL_OPS, ...TENSOR_OPS };

/** The TF ops the importer converts (SparseToDense only when its inputs are constant). */
export const SUPPORTED_TFJS_OPS = Object.freeze(['Placeholder', 'Const', 'Identity', 'SparseToDense', ...Object.keys(OPS)].sort());

const nodeOf = (ref: string) => ref.replace(/^\^/, '').replace(/:\d+$/, '');

/** GraphDefs are usually written in order, but nothing requires it: a depth-first order that fails on cycles. */
function topological(nodes: NodeDef[], model: string): NodeDef[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 'open' | 'done'>();
  const order: NodeDef[] = [];
  const visit = (root: NodeDef) => {
    const stack: [NodeDef, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i === 0) state.set(node.name, 'open');
      if (i < node.input.length) {
        top[1] += 1;
        const dep = byName.get(nodeOf(node.input[i]!));
        if (!dep) throw new TfjsFormatError(`${model}: node ${node.name} reads ${node.input[i]}, which no node produces`);
        const s = state.get(dep.name);
        if (s === 'open') throw new TfjsFormatError(`${model}: the graph has a cycle through ${dep.name} (TF control flow is not supported)`);
        if (!s) stack.push([dep, 0]);
        continue;
      }
      state.set(node.name, 'done');
      order.push(node);
      stack.pop();
    }
  };
  for (const n of nodes) if (!state.has(n.name)) visit(n);
  return order;
}

const dims = (t: SignatureTensor | undefined, prefix: string): Dim[] | undefined =>
  t?.tensorShape?.dim?.map((d, i) => (d.size === undefined || Number(d.size) < 0 ? `${prefix}_${i}` : Number(d.size)));

function placeholder(node: NodeDef, ctx: Emitter): Value {
  const dtype = tfDType(node, ctx, 'dtype');
  const shape = (node.attr.shape?.shape as { dim?: { size?: string | number }[] } | undefined)?.dim;
  if (!shape) ctx.fail(node, 'an input needs a known rank');
  const d = dims({ name: node.name, tensorShape: { dim: shape } }, 'd')!;
  ctx.g.input(node.name, dtype === 'int32' ? 'int32' : dtype === 'bool' ? 'bool' : 'float32', d);
  return { kind: 'tensor', name: node.name, dtype };
}

function emitNode(node: NodeDef, ctx: Emitter, weights: ReturnType<typeof readWeights>): Value[] {
  if (node.op === 'Placeholder') return [placeholder(node, ctx)];
  if (node.op === 'Const') {
    const w = weights.get(node.name);
    if (!w) ctx.fail(node, 'has no values in the weights manifest');
    return [constValue(w)];
  }
  const inputs = ctx.inputs(node);
  const folder = FOLDERS[node.op];
  if (folder && inputs.every((v) => v.kind === 'const')) {
    return folder(node, ctx, inputs.map((v) => (v as Extract<Value, { kind: 'const' }>).tensor)).map(constValue);
  }
  if (node.op === 'Identity') return [inputs[0]!];
  const emit = OPS[node.op];
  if (!emit) {
    if (folder) ctx.fail(node, 'is only converted when all its inputs are constant');
    throw new TfjsFormatError(`${ctx.model}: op ${node.op} (node ${node.name}) is not supported by the TF.js importer; supported: ${SUPPORTED_TFJS_OPS.join(', ')}`);
  }
  return emit(node, ctx, inputs);
}

/** The model's outputs: its signature's, else every node whose result nothing reads. */
function outputsOf(json: GraphModelJson): { ref: string; info?: SignatureTensor }[] {
  const signed = Object.values(json.signature?.outputs ?? {});
  if (signed.length) return signed.map((info) => ({ ref: info.name.replace(/:0$/, ''), info }));
  const read = new Set(json.modelTopology.node.flatMap((n) => n.input.map(nodeOf)));
  return json.modelTopology.node.filter((n) => !read.has(n.name) && n.op !== 'Const').map((n) => ({ ref: n.name }));
}

/**
 * Converts a TF.js graph model (`model.json` text and its weight shards by file name) into an
 * ONNX model (opset 17) with the same input and output names, shapes and layouts (NHWC stays
 * NHWC). float16 and affine uint8 weights are dequantised to float32. Throws TfjsFormatError
 * naming the model, the node and the op for anything it does not convert.
 */
export function convertTfjsToOnnx(modelJson: string, shards: ReadonlyMap<string, Uint8Array>, model: string): Uint8Array {
  const json = parseGraphModel(modelJson, model);
  const weights = readWeights(json, shards, model);
  const g = new GraphBuilder(model, 17);
  const ctx = new Emitter(g, model);
  for (const node of topological(json.modelTopology.node, model)) ctx.set(node.name, emitNode(node, ctx, weights));
  const names: string[] = [];
  for (const { ref, info } of outputsOf(json)) {
    const [v] = ctx.inputs({ name: 'output', op: 'Output', input: [ref], attr: {} });
    const name = ref.replace(/:\d+$/, (m) => `_${m.slice(1)}`);
    g.op('Identity', [ctx.name(v!)], {}, name);
    const dtype = v!.kind === 'const' ? v!.tensor.dtype : v!.dtype;
    g.output(name, dtype === 'int32' ? 'int32' : dtype === 'bool' ? 'bool' : 'float32', dims(info, `${name}_d`));
    names.push(name);
  }
  // Transposes a later op cancelled, and constants only folding read, are left unread: drop them.
  const onnxModel = g.toModel();
  keepOutputs(onnxModel.graph!, names);
  return encodeModel(onnxModel);
}
