import { spawnWorker, workerEntry } from '../worker/spawn.js';
import type { ConverterName, ConvertOptions } from './converters.js';

const ENTRY = workerEntry('convert-worker', import.meta.url);

export interface ConvertJob {
  converter: ConverterName;
  inputs: [string, Uint8Array][];
  options: ConvertOptions;
}

export type ConvertReply = { output: Uint8Array } | { error: string };

/** Runs one conversion in a worker thread of its own, which exits when it is done. */
export function convertInWorker(converter: ConverterName, inputs: ReadonlyMap<string, Uint8Array>, options: ConvertOptions = {}): Promise<Uint8Array> {
  const job: ConvertJob = { converter, inputs: [...inputs], options };
  return new Promise((resolve, reject) => {
    const worker = spawnWorker(ENTRY, job);
    worker.once('message', (reply: ConvertReply) => ('output' in reply ? resolve(reply.output) : reject(new Error(reply.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the ${converter} converter's worker exited with code ${code} before answering`)));
  });
}
