import type { ConvertSourceSpec, GraphPass } from '../manifest.js';
import type { CalibrationInput } from '../convert/quantize/calibrate.js';
import { convertInWorker } from './convert-in-worker.js';

export interface ConvertOptions {
  /** Graph rewrites applied to the converted model, in order. */
  passes?: readonly GraphPass[];
  /** The int8 converter's calibration photos (an absolute folder) and input preprocessing. */
  calibration?: { dir: string; input: CalibrationInput };
}

/** Converter input files keyed by the name the `from` source stores them under. */
export type Converter = (inputs: ReadonlyMap<string, Uint8Array>, options?: ConvertOptions) => Uint8Array | Promise<Uint8Array>;
export type ConverterName = ConvertSourceSpec['converter'];
export type ConverterRegistry = Record<ConverterName, () => Promise<Converter>>;

function fileEndingWith(inputs: ReadonlyMap<string, Uint8Array>, ext: string): Uint8Array {
  const hits = [...inputs].filter(([name]) => name.endsWith(ext));
  if (hits.length !== 1) throw new Error(`the converter needs exactly one ${ext} file, got ${hits.length}`);
  return hits[0]![1];
}

async function finish(bytes: Uint8Array, options: ConvertOptions = {}): Promise<Uint8Array> {
  if (!options.passes) return bytes;
  const { applyGraphPasses } = await import('../convert/graph-passes.js');
  return applyGraphPasses(bytes, options.passes);
}

/** The converters themselves, imported on first use: a service that never converts never loads them. */
export const IMPLEMENTATIONS: ConverterRegistry = {
  ncnn: async () => {
    const { convertNcnnToOnnx } = await import('../convert/ncnn.js');
    return (inputs, options) => finish(convertNcnnToOnnx(new TextDecoder().decode(fileEndingWith(inputs, '.param')), fileEndingWith(inputs, '.bin')), options);
  },
  'fp16-to-fp32': async () => {
    const { widenFp16Model } = await import('../convert/fp16-to-fp32.js');
    return (inputs, options) => finish(widenFp16Model(fileEndingWith(inputs, '.onnx')), options);
  },
  'batch-dim': async () => {
    const { batchDimModel } = await import('../convert/batch-dim.js');
    return (inputs, options) => finish(batchDimModel(fileEndingWith(inputs, '.onnx')), options);
  },
  'int8-qdq': async () => {
    const { quantiseInt8 } = await import('../convert/quantize/int8.js');
    return (inputs, options = {}) => {
      if (!options.calibration) throw new Error('the int8-qdq converter needs a calibration');
      return quantiseInt8(fileEndingWith(inputs, '.onnx'), { passes: options.passes ?? [], calibration: options.calibration });
    };
  },
  tfjs: async () => {
    const { convertTfjsToOnnx } = await import('../convert/tfjs/convert.js');
    return (inputs, options) => {
      const [name, json] = [...inputs].find(([n]) => n.endsWith('.json')) ?? [];
      if (!name || !json) throw new Error('the tfjs converter needs the model.json file');
      const shards = new Map([...inputs].filter(([n]) => n !== name));
      return finish(convertTfjsToOnnx(new TextDecoder().decode(json), shards, name.replace(/\.json$/, '')), options);
    };
  },
};

/**
 * The store's converters: each conversion runs in a worker thread, because the service is already
 * serving while default models are pulled and widening ISNet alone takes ~1 s of CPU.
 */
const inWorker = (name: ConverterName) => async (): Promise<Converter> => (inputs, options) => convertInWorker(name, inputs, options);

export const CONVERTERS: ConverterRegistry = {
  ncnn: inWorker('ncnn'),
  'fp16-to-fp32': inWorker('fp16-to-fp32'),
  'batch-dim': inWorker('batch-dim'),
  'int8-qdq': inWorker('int8-qdq'),
  tfjs: inWorker('tfjs'),
};
