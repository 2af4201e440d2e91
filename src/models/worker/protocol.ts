import type { Feeds, Outputs } from '../tensor.js';
import type { LoadOptions } from './types.js';

/** Messages the pool posts to a worker. `id` pairs each request with its one reply. */
export type ToWorker =
  | { type: 'load'; id: number; key: string; opts: LoadOptions }
  | { type: 'run'; id: number; key: string; feeds: Feeds; outputs?: string[] }
  | { type: 'unload'; id: number; key: string };

/** Replies a worker posts back: exactly one per request. */
export type FromWorker =
  | { type: 'loaded'; id: number; loadMs: number; measuredMB: number; inputNames: string[]; outputNames: string[] }
  | { type: 'ran'; id: number; outputs: Outputs; inferenceMs: number }
  | { type: 'unloaded'; id: number }
  | { type: 'failed'; id: number; message: string; reason: 'error' | 'not-loaded' };

/**
 * Asks the worker to release its sessions and exit once the request in flight is answered. The
 * pool never calls worker.terminate() on a busy worker: terminating while onnxruntime is inside
 * run() aborts the whole process ("terminate called after throwing an instance of 'Napi::Error'",
 * measured with onnxruntime-node 1.30).
 */
export interface WorkerShutdown {
  type: 'shutdown';
}

/** Posted once, after the worker listens: a worker that dies before it is not respawned. */
export interface WorkerReady {
  type: 'ready';
}

export type RequestType = ToWorker['type'];

/** A request before the slot numbers it. */
export type Request = ToWorker extends infer M ? (M extends ToWorker ? Omit<M, 'id'> : never) : never;

/** The successful reply each request type expects. */
export type ReplyTo<T extends RequestType> = Extract<
  FromWorker,
  { type: T extends 'load' ? 'loaded' : T extends 'run' ? 'ran' : 'unloaded' }
>;

export const REPLY_TYPE: Record<RequestType, FromWorker['type']> = {
  load: 'loaded',
  run: 'ran',
  unload: 'unloaded',
};

/** Type guard for replies: the pool is internal, so this checks only the shape it dispatches on. */
export function isFromWorker(value: unknown): value is FromWorker {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { type?: unknown; id?: unknown };
  return typeof v.id === 'number' && ['loaded', 'ran', 'unloaded', 'failed'].includes(v.type as string);
}

export function isWorkerReady(value: unknown): value is WorkerReady {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'ready';
}

export function isWorkerShutdown(value: unknown): value is WorkerShutdown {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'shutdown';
}

export function isToWorker(value: unknown): value is ToWorker {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { type?: unknown; id?: unknown; key?: unknown };
  return typeof v.id === 'number' && typeof v.key === 'string' && ['load', 'run', 'unload'].includes(v.type as string);
}

/**
 * The ArrayBuffers behind these tensors, to hand to postMessage's transfer list. A view that covers
 * only part of its buffer (Node's pooled Buffers, a subarray) or a shared buffer is left out, so it
 * is copied instead of detaching memory that other data lives in.
 */
export function transferablesOf(tensors: Feeds | Outputs): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    const { buffer, byteOffset, byteLength } = t.data;
    if (!(buffer instanceof ArrayBuffer)) continue;
    if (byteOffset === 0 && byteLength === buffer.byteLength) buffers.add(buffer);
  }
  return [...buffers];
}
