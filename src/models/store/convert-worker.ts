import { serveJobs, wholeBuffer } from '../worker/lanes.js';
import type { ConvertJob } from './convert-in-worker.js';
import { IMPLEMENTATIONS } from './converters.js';

serveJobs<ConvertJob, Uint8Array>(async (job) => (await IMPLEMENTATIONS[job.converter]())(new Map(job.inputs), job.options), wholeBuffer);
