import { runOnce } from '../worker/one-shot.js';
import { workerEntry } from '../worker/spawn.js';
import type { ConverterName, ConvertOptions } from './converters.js';

const ENTRY = workerEntry('convert-worker', import.meta.url);

export interface ConvertJob {
  converter: ConverterName;
  inputs: [string, Uint8Array][];
  options: ConvertOptions;
}

/** Runs one conversion in a worker thread of its own, which exits when it is done. */
export function convertInWorker(converter: ConverterName, inputs: ReadonlyMap<string, Uint8Array>, options: ConvertOptions = {}): Promise<Uint8Array> {
  const job: ConvertJob = { converter, inputs: [...inputs], options };
  return runOnce<Uint8Array>(ENTRY, job, { label: `${converter} converter's` });
}
