import { Worker } from 'node:worker_threads';
import { SESSION_WORKER_URL, bootstrapSource, bootstrapUrl } from '../../src/models/worker/spawn.js';
import type { WorkerFactory } from '../../src/models/worker/types.js';

/**
 * Session workers that call process.exit(3) when the `nth` run of session `key` arrives (counted
 * per worker, so a replacement worker serves it). The listener is added after the session
 * worker's, which may already have run the session (onnxruntime-node's CPU run can return at
 * once) and queued its reply on a microtask; a thread asked to exit may still run that microtask (the
 * likely cause of one fresh-clone CI run where the "crashed" run answered), so posting is switched
 * off first and no reply can leave. Terminating a worker from outside while onnxruntime runs would abort the whole
 * process.
 */
export function crashOnRun(key: string, nth = 1): WorkerFactory {
  return (init) => {
    const epilogue = `
      const { parentPort } = await import('node:worker_threads');
      let runs = 0;
      parentPort.on('message', (m) => {
        if (m.type !== 'run' || m.key !== ${JSON.stringify(key)} || ++runs !== ${nth}) return;
        parentPort.postMessage = () => {};
        process.exit(3);
      });
    `;
    return new Worker(bootstrapUrl(bootstrapSource(SESSION_WORKER_URL) + epilogue), { workerData: init });
  };
}
