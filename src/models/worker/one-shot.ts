import { parentPort } from 'node:worker_threads';
import { spawnWorker } from './spawn.js';

/** What a one-shot worker posts: progress any number of times, then one result or one error. */
export type OneShotMessage<R, P> = { progress: P } | { result: R } | { error: string };

export interface OneShotOptions<P> {
  /** Names the work in the error when the worker dies without answering. */
  label: string;
  /** Terminates the worker: CPU-bound work cannot check a signal itself. */
  signal?: AbortSignal;
  onProgress?: (progress: P) => void;
  transfer?: ArrayBuffer[];
}

/**
 * Runs `entry` once in a worker thread of its own, handed `job` as workerData, and settles with the
 * result it posts; the worker is gone when it settles. Long pure-JS work (model conversion,
 * exemplar inpainting) runs this way so the event loop keeps serving.
 */
export function runOnce<R, P = never>(entry: URL, job: unknown, opts: OneShotOptions<P>): Promise<R> {
  opts.signal?.throwIfAborted();
  return new Promise<R>((resolve, reject) => {
    const worker = spawnWorker(entry, job, opts.transfer);
    const onAbort = () => {
      reject(opts.signal!.reason);
      void worker.terminate();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => opts.signal?.removeEventListener('abort', onAbort);
    worker.on('message', (msg: OneShotMessage<R, P>) => {
      if ('progress' in msg) return opts.onProgress?.(msg.progress);
      settle();
      if ('result' in msg) resolve(msg.result);
      else reject(new Error(msg.error));
    });
    worker.once('error', (err) => {
      settle();
      reject(err);
    });
    worker.once('exit', (code) => {
      settle();
      reject(new Error(`the ${opts.label} worker exited with code ${code} before answering`));
    });
  });
}

/** The worker side: runs `work` and posts its result (transferring whole buffers) or its error. */
export async function answerOnce<R, P = never>(work: (progress: (p: P) => void) => Promise<R> | R, transferOf: (r: R) => ArrayBuffer[] = () => []): Promise<void> {
  const post = (msg: OneShotMessage<R, P>, transfer: ArrayBuffer[] = []) => parentPort?.postMessage(msg, transfer);
  try {
    const result = await work((progress) => post({ progress }));
    post({ result }, transferOf(result));
  } catch (err) {
    post({ error: err instanceof Error ? err.message : String(err) });
  }
}

/** The buffer behind a view, when the view covers all of it (only then can it be transferred). */
export function wholeBuffer(view: ArrayBufferView): ArrayBuffer[] {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? [view.buffer as ArrayBuffer] : [];
}
