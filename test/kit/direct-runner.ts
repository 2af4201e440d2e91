import * as ort from 'onnxruntime-node';
import type { ModelRunner, RunOptions, RunResult } from '../../src/models/runner.js';
import type { Feeds, Outputs, TensorLike } from '../../src/models/tensor.js';

/**
 * A ModelRunner for pipeline unit tests: sessions on the test's own thread, from model bytes the
 * test built. Production code runs models only through the ModelManager.
 */
export function directRunner(models: Record<string, Uint8Array>, files: Record<string, Record<string, Buffer>> = {}): ModelRunner & { calls: string[] } {
  const sessions = new Map<string, Promise<ort.InferenceSession>>();
  const calls: string[] = [];
  return {
    calls,
    available: (modelId) => modelId in models,
    async file(modelId, name) {
      const data = files[modelId]?.[name];
      if (!data) throw new Error(`directRunner: no file ${name} for ${modelId}`);
      return data;
    },
    async run(modelId: string, feeds: Feeds, opts: RunOptions = {}): Promise<RunResult> {
      const bytes = models[modelId];
      if (!bytes) throw new Error(`directRunner: no model ${modelId}`);
      calls.push(modelId);
      let session = sessions.get(modelId);
      if (!session) {
        session = ort.InferenceSession.create(bytes);
        sessions.set(modelId, session);
      }
      const s = await session;
      const input: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor(t.type, t.data, t.dims);
      const start = performance.now();
      const out = await s.run(input);
      const inferenceMs = performance.now() - start;
      const outputs: Outputs = {};
      for (const [name, t] of Object.entries(out)) {
        if (opts.outputs && !opts.outputs.includes(name)) continue;
        outputs[name] = { type: t.type, dims: [...t.dims], data: t.data } as TensorLike;
      }
      return { outputs, device: 'cpu', inferenceMs };
    },
  };
}
