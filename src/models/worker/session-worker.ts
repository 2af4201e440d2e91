/**
 * Worker-thread entry: owns the onnxruntime sessions of one pool slot. onnxruntime-node's run()
 * blocks the thread it is called on (onnxruntime#19611, #26968), which is why it lives here.
 * Requests are handled one at a time in arrival order; the pool sends one at a time anyway.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { Feeds, Outputs, TensorLike } from '../tensor.js';
import { isToWorker, isWorkerShutdown, transferablesOf, type FromWorker, type ToWorker, type WorkerReady } from './protocol.js';
import { sessionOptionsFor } from './session-options.js';
import type { WorkerInit } from './types.js';

if (!parentPort) throw new Error('session-worker.ts runs only as a worker thread (see spawn.ts)');
const port = parentPort;
const init = workerData as WorkerInit;
const sessions = new Map<string, ort.InferenceSession>();
const MB = 1024 * 1024;

function toOrtFeeds(feeds: Feeds): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = new ort.Tensor(t.type, t.data, t.dims);
  return out;
}

function fromOrtOutputs(result: ort.InferenceSession.ReturnType): Outputs {
  const out: Outputs = {};
  for (const [name, t] of Object.entries(result)) {
    out[name] = { type: t.type, dims: [...t.dims], data: t.data } as TensorLike;
  }
  return out;
}

async function load(msg: Extract<ToWorker, { type: 'load' }>): Promise<FromWorker> {
  await sessions.get(msg.key)?.release();
  sessions.delete(msg.key);
  const rssBefore = process.memoryUsage.rss();
  const start = performance.now();
  const session = await ort.InferenceSession.create(msg.opts.modelPath, sessionOptionsFor(msg.opts, init));
  const loadMs = performance.now() - start;
  const measuredMB = Math.max(0, (process.memoryUsage.rss() - rssBefore) / MB);
  sessions.set(msg.key, session);
  return {
    type: 'loaded',
    id: msg.id,
    loadMs,
    measuredMB,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
  };
}

async function run(msg: Extract<ToWorker, { type: 'run' }>): Promise<FromWorker> {
  const session = sessions.get(msg.key);
  if (!session) return { type: 'failed', id: msg.id, reason: 'not-loaded', message: `no session ${msg.key}` };
  const feeds = toOrtFeeds(msg.feeds);
  const start = performance.now();
  const result = msg.outputs ? await session.run(feeds, msg.outputs) : await session.run(feeds);
  const inferenceMs = performance.now() - start;
  return { type: 'ran', id: msg.id, outputs: fromOrtOutputs(result), inferenceMs };
}

async function unload(msg: Extract<ToWorker, { type: 'unload' }>): Promise<FromWorker> {
  const session = sessions.get(msg.key);
  sessions.delete(msg.key);
  await session?.release();
  return { type: 'unloaded', id: msg.id };
}

function handle(msg: ToWorker): Promise<FromWorker> {
  switch (msg.type) {
    case 'load':
      return load(msg);
    case 'run':
      return run(msg);
    case 'unload':
      return unload(msg);
  }
}

/** Output buffers move to the pool; a buffer that cannot be transferred is copied by postMessage. */
function reply(msg: FromWorker): void {
  const transfer = msg.type === 'ran' ? transferablesOf(msg.outputs) : [];
  try {
    port.postMessage(msg, transfer);
  } catch (err) {
    if (transfer.length === 0) throw err;
    port.postMessage(msg);
  }
}

async function shutdown(): Promise<void> {
  await Promise.allSettled([...sessions.values()].map((s) => s.release()));
  sessions.clear();
  port.close();
}

async function answer(msg: ToWorker): Promise<void> {
  try {
    reply(await handle(msg));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    reply({ type: 'failed', id: msg.id, reason: 'error', message });
  }
}

/** A reply that cannot be posted at all kills the worker: the pool then fails the request instead of it hanging. */
function die(err: unknown): void {
  setImmediate(() => {
    throw err;
  });
}

let tail = Promise.resolve();
port.on('message', (msg: unknown) => {
  if (isWorkerShutdown(msg)) tail = tail.then(shutdown).catch(die);
  else if (isToWorker(msg)) tail = tail.then(() => answer(msg)).catch(die);
});
port.postMessage({ type: 'ready' } satisfies WorkerReady);
