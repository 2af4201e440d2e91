import { runOnce } from '../../models/worker/one-shot.js';
import { workerEntry } from '../../models/worker/spawn.js';

export const EXEMPLAR_METHODS = ['patchmatch', 'telea'] as const;
export type ExemplarMethod = (typeof EXEMPLAR_METHODS)[number];

export interface ExemplarJob {
  method: ExemplarMethod;
  rgb: Uint8Array;
  hole: Uint8Array;
  width: number;
  height: number;
  patchSize: number;
  radius: number;
  seed: number;
}

export interface LevelProgress {
  done: number;
  total: number;
}

const ENTRY = workerEntry('exemplar-worker', import.meta.url);

/**
 * Runs PatchMatch or Telea in a worker thread of its own: both are seconds of tight loops on a
 * large hole, which on the main thread would stall /health and every other request. Aborting
 * the signal terminates the worker.
 */
export function inpaintInWorker(job: ExemplarJob, signal: AbortSignal, onLevel?: (p: LevelProgress) => void): Promise<Uint8Array> {
  return runOnce<Uint8Array, LevelProgress>(ENTRY, job, { label: `${job.method} inpainting`, signal, ...(onLevel ? { onProgress: onLevel } : {}) });
}
