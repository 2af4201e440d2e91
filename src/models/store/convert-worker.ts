import { parentPort, workerData } from 'node:worker_threads';
import type { ConvertJob, ConvertReply } from './convert-in-worker.js';
import { IMPLEMENTATIONS } from './converters.js';

const job = workerData as ConvertJob;
let reply: ConvertReply;
try {
  const convert = await IMPLEMENTATIONS[job.converter]();
  reply = { output: await convert(new Map(job.inputs), job.options) };
} catch (err) {
  reply = { error: err instanceof Error ? err.message : String(err) };
}
const whole = 'output' in reply && reply.output.byteOffset === 0 && reply.output.byteLength === reply.output.buffer.byteLength;
parentPort?.postMessage(reply, whole && 'output' in reply ? [reply.output.buffer as ArrayBuffer] : []);
