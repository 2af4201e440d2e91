import type { ConvertSourceSpec } from '../manifest.js';
import { convertInWorker } from './convert-in-worker.js';

/** Converter input files keyed by the name the `from` source stores them under. */
export type Converter = (inputs: ReadonlyMap<string, Uint8Array>) => Uint8Array | Promise<Uint8Array>;
export type ConverterName = ConvertSourceSpec['converter'];
export type ConverterRegistry = Record<ConverterName, () => Promise<Converter>>;

function fileEndingWith(inputs: ReadonlyMap<string, Uint8Array>, ext: string): Uint8Array {
  const hits = [...inputs].filter(([name]) => name.endsWith(ext));
  if (hits.length !== 1) throw new Error(`the converter needs exactly one ${ext} file, got ${hits.length}`);
  return hits[0]![1];
}

/** The converters themselves, imported on first use: a service that never converts never loads them. */
export const IMPLEMENTATIONS: ConverterRegistry = {
  ncnn: async () => {
    const { convertNcnnToOnnx } = await import('../convert/ncnn.js');
    return (inputs) => convertNcnnToOnnx(new TextDecoder().decode(fileEndingWith(inputs, '.param')), fileEndingWith(inputs, '.bin'));
  },
  'fp16-to-fp32': async () => {
    const { widenFp16Model } = await import('../convert/fp16-to-fp32.js');
    return (inputs) => widenFp16Model(fileEndingWith(inputs, '.onnx'));
  },
  'batch-dim': async () => {
    const { batchDimModel } = await import('../convert/batch-dim.js');
    return (inputs) => batchDimModel(fileEndingWith(inputs, '.onnx'));
  },
};

/**
 * The store's converters: each conversion runs in a worker thread, because the service is already
 * serving while default models are pulled and widening ISNet alone takes ~1 s of CPU.
 */
export const CONVERTERS: ConverterRegistry = {
  ncnn: async () => (inputs) => convertInWorker('ncnn', inputs),
  'fp16-to-fp32': async () => (inputs) => convertInWorker('fp16-to-fp32', inputs),
  'batch-dim': async () => (inputs) => convertInWorker('batch-dim', inputs),
};
