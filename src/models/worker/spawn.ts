import { Worker } from 'node:worker_threads';
import type { WorkerFactory } from './types.js';

/**
 * A worker entry beside the calling module, in the same form: `.ts` under tsx (`npm start`,
 * tests), `.js` in the compiled build (`npm run start:prod`).
 */
export function workerEntry(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

export const SESSION_WORKER_URL = workerEntry('session-worker', import.meta.url);

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

/** A worker thread running an entry, handed `workerData`; a TypeScript one starts through tsx's bootstrap, compiled JavaScript as it is. */
export function spawnWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  return new Worker(bootstrapUrl(bootstrapSource(entry)), { workerData });
}

export const defaultWorkerFactory: WorkerFactory = (init) => spawnWorker(SESSION_WORKER_URL, init);
