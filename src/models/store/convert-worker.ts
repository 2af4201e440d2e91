import { workerData } from 'node:worker_threads';
import { answerOnce, wholeBuffer } from '../worker/one-shot.js';
import type { ConvertJob } from './convert-in-worker.js';
import { IMPLEMENTATIONS } from './converters.js';

const job = workerData as ConvertJob;
await answerOnce(async () => (await IMPLEMENTATIONS[job.converter]())(new Map(job.inputs), job.options), wholeBuffer);
