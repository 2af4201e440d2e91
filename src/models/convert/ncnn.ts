import { GraphBuilder } from '../onnx/graph-builder.js';
import { emitLayer, type EmitContext } from './ncnn-layers.js';
import { LayerParams, NcnnFormatError, parseNcnnParam, type NcnnLayer } from './ncnn-param.js';
import { NcnnWeights } from './ncnn-weights.js';

export { NcnnFormatError } from './ncnn-param.js';

/** Tensor names of the converted model: the Real-ESRGAN contract `data` → `output`. */
export const NCNN_INPUT_NAME = 'data';
export const NCNN_OUTPUT_NAME = 'output';

/** The blob nobody consumes is the model's output; Real-ESRGAN graphs have exactly one. */
function findOutputBlob(layers: NcnnLayer[]): string {
  const consumed = new Set(layers.flatMap((l) => l.inputs));
  const sinks = layers.flatMap((l) => l.outputs).filter((b) => !consumed.has(b));
  if (sinks.length !== 1) {
    throw new NcnnFormatError(`expected exactly one output blob, found ${sinks.length} (${sinks.slice(0, 5).join(', ')})`);
  }
  return sinks[0] as string;
}

function createContext(g: GraphBuilder, weights: NcnnWeights, outputBlob: string): EmitContext {
  const names = new Map<string, string>();
  return {
    g,
    weights,
    channels: new Map(),
    tensor(blob) {
      const name = names.get(blob);
      if (name === undefined) throw new NcnnFormatError(`blob ${blob} is used before any layer produces it`);
      return name;
    },
    produce(blob) {
      if (names.has(blob)) throw new NcnnFormatError(`blob ${blob} is produced twice`);
      const name = blob === outputBlob ? NCNN_OUTPUT_NAME : `blob:${blob}`;
      names.set(blob, name);
      return name;
    },
    alias(blob, tensor) {
      if (names.has(blob)) throw new NcnnFormatError(`blob ${blob} is produced twice`);
      names.set(blob, tensor);
    },
  };
}

function emitInput(layer: NcnnLayer, ctx: EmitContext): void {
  const [blob] = layer.outputs;
  if (layer.outputs.length !== 1 || blob === undefined) throw new NcnnFormatError(`Input ${layer.name}: expected one output blob`);
  const channels = new LayerParams(layer).num(2, 0) || 3;
  ctx.g.input(NCNN_INPUT_NAME, 'float32', [1, channels, 'h', 'w']);
  ctx.alias(blob, NCNN_INPUT_NAME);
  ctx.channels.set(NCNN_INPUT_NAME, channels);
}

/**
 * Converts an ncnn model (the layer set of the Real-ESRGAN graphs) to an ONNX model with input
 * `data` [1,3,h,w] and output `output`. fp16 weights become fp32. Throws NcnnFormatError naming
 * the layer for anything unsupported, and when the `.bin` has bytes left over or runs short.
 */
export function convertNcnnToOnnx(paramText: string, bin: Uint8Array): Uint8Array {
  const layers = parseNcnnParam(paramText);
  const inputs = layers.filter((l) => l.type === 'Input');
  if (inputs.length !== 1) throw new NcnnFormatError(`expected exactly one Input layer, found ${inputs.length}`);
  const g = new GraphBuilder('ncnn-converted', 13);
  const weights = new NcnnWeights(bin);
  const ctx = createContext(g, weights, findOutputBlob(layers));
  for (const layer of layers) {
    if (layer.type === 'Input') emitInput(layer, ctx);
    else emitLayer(layer, ctx);
  }
  weights.assertConsumed();
  g.output(NCNN_OUTPUT_NAME, 'float32', [1, ctx.channels.get(NCNN_OUTPUT_NAME) ?? 'c', 'H', 'W']);
  return g.toBytes();
}
