import { serveJobs } from '../../src/models/worker/lanes.js';

/** Test worker: busy-waits `ms` (CPU-bound, deaf to signals), reporting progress, then answers its threadId-free echo. */
serveJobs<{ ms: number; echo: string; fail?: boolean }, string, number>((job, progress) => {
  if (job.fail) throw new Error(`failed on purpose: ${job.echo}`);
  const end = Date.now() + job.ms;
  progress(0);
  while (Date.now() < end);
  progress(1);
  return job.echo;
});
