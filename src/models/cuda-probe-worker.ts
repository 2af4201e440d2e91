import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** Creates one session with only the CUDA provider and reports whether it could; runs in its own thread. */
const { model } = workerData as { model: Uint8Array };
// The failure is reported in words by detectDevice; onnxruntime's own stderr line would repeat it.
ort.env.logLevel = 'fatal';
try {
  const session = await ort.InferenceSession.create(model, { executionProviders: [{ name: 'cuda', deviceId: 0 }], logSeverityLevel: 4 });
  await session.release();
  parentPort!.postMessage({ ok: true });
} catch (err) {
  parentPort!.postMessage({ ok: false, error: (err as Error).message });
}
