import { Worker } from 'node:worker_threads';
import type { WorkerFactory } from './types.js';

export const SESSION_WORKER_URL = new URL('./session-worker.ts', import.meta.url);

/**
 * The service runs TypeScript through tsx (`tsx src/main.ts`, `node --import tsx --test`), but on
 * Node 20 a worker does not get the parent's loader hooks in time for its entry file: a `.ts` entry
 * fails with "Unknown file extension" even with `--import tsx` in execArgv (measured). So each
 * worker starts from this ESM bootstrap, which registers tsx in the worker and then imports the
 * entry.
 */
export function bootstrapSource(entry: URL): string {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return [
    `const tsx = await import(${JSON.stringify(tsxApi)});`,
    'tsx.register();',
    `await import(${JSON.stringify(entry.href)});`,
  ].join('\n');
}

export function bootstrapUrl(source: string): URL {
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/** A worker thread running a TypeScript entry, handed `workerData`. */
export function spawnTsWorker(entry: URL, workerData: unknown): Worker {
  return new Worker(bootstrapUrl(bootstrapSource(entry)), { workerData });
}

export const defaultWorkerFactory: WorkerFactory = (init) => spawnTsWorker(SESSION_WORKER_URL, init);
