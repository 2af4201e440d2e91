import { WorkerLanes } from '../worker/lanes.js';
import { workerEntry } from '../worker/spawn.js';
import type { ConverterName, ConvertOptions } from './converters.js';

export interface ConvertJob {
  converter: ConverterName;
  inputs: [string, Uint8Array][];
  options: ConvertOptions;
}

/** A conversion holds a whole model in memory: its worker exits as soon as it is done. */
const lanes = new WorkerLanes<ConvertJob, Uint8Array>(workerEntry('convert-worker', import.meta.url), { label: 'model converter', size: 1, idleMs: 0 });

/** Runs one conversion in a worker thread. */
export function convertInWorker(converter: ConverterName, inputs: ReadonlyMap<string, Uint8Array>, options: ConvertOptions = {}): Promise<Uint8Array> {
  return lanes.run({ converter, inputs: [...inputs], options });
}
