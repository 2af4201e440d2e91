import onnxProto from 'onnx-proto';
import type { GraphPass } from '../manifest.js';
import { keepOutputs } from './keep-outputs.js';
import { splitConcatConv } from './split-concat-conv.js';

const { onnx } = onnxProto;

/** Applies a convert source's graph passes in order, decoding and encoding the model once. */
export function applyGraphPasses(bytes: Uint8Array, passes: readonly GraphPass[]): Uint8Array {
  if (passes.length === 0) return bytes;
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('graph passes: the file holds no graph');
  for (const pass of passes) {
    switch (pass.pass) {
      case 'keep-outputs':
        keepOutputs(graph, pass.outputs);
        break;
      case 'split-concat-conv':
        splitConcatConv(graph);
        break;
    }
  }
  return onnx.ModelProto.encode(model).finish();
}
