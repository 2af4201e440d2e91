import os from 'node:os';
import { WorkerLanes } from '../../models/worker/lanes.js';
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

/**
 * PatchMatch and Telea are seconds of tight loops on a large hole, which on the main thread would
 * stall /health and every other request; they run on up to two worker threads (the cores are
 * shared with the model sessions), kept for a minute between jobs.
 */
const lanes = new WorkerLanes<ExemplarJob, Uint8Array, LevelProgress>(workerEntry('exemplar-worker', import.meta.url), {
  label: 'inpainting',
  size: Math.max(1, Math.min(2, os.availableParallelism() - 1)),
  idleMs: 60_000,
});

/**
 * Runs one fill off the main thread; aborting the signal terminates its worker. The job is copied,
 * not transferred: the caller still pastes with its hole mask.
 */
export function inpaintInWorker(job: ExemplarJob, signal: AbortSignal, onLevel?: (p: LevelProgress) => void): Promise<Uint8Array> {
  return lanes.run(job, { signal, ...(onLevel ? { onProgress: onLevel } : {}) });
}
