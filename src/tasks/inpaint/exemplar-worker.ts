import { serveJobs, wholeBuffer } from '../../models/worker/lanes.js';
import type { ExemplarJob, LevelProgress } from './exemplar.js';
import { inpaintPatchMatch } from './patchmatch.js';
import { inpaintTelea } from './telea.js';

serveJobs<ExemplarJob, Uint8Array, LevelProgress>((job, progress) => (job.method === 'telea'
  ? inpaintTelea(job.rgb, job.hole, job.width, job.height, job.radius)
  : inpaintPatchMatch(job.rgb, job.hole, job.width, job.height, { patchSize: job.patchSize, seed: job.seed, onLevel: (done, total) => progress({ done, total }) })), wholeBuffer);
