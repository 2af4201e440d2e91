import { workerData } from 'node:worker_threads';
import { answerOnce, wholeBuffer } from '../../models/worker/one-shot.js';
import type { ExemplarJob, LevelProgress } from './exemplar.js';
import { inpaintPatchMatch } from './patchmatch.js';
import { inpaintTelea } from './telea.js';

const job = workerData as ExemplarJob;
await answerOnce<Uint8Array, LevelProgress>((progress) => job.method === 'telea'
  ? inpaintTelea(job.rgb, job.hole, job.width, job.height, job.radius)
  : inpaintPatchMatch(job.rgb, job.hole, job.width, job.height, { patchSize: job.patchSize, seed: job.seed, onLevel: (done, total) => progress({ done, total }) }), wholeBuffer);
