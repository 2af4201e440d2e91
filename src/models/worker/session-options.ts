import type { InferenceSession } from 'onnxruntime-node';
import { cudaIndex } from '../../vram/types.js';
import type { DeviceId } from '../runner.js';
import type { LoadOptions, WorkerInit } from './types.js';

/**
 * CUDA is listed alone: onnxruntime still places nodes CUDA cannot run on its CPU kernels, but a
 * missing CUDA provider fails the load loudly instead of silently running on CPU while the
 * scheduler counts the model as resident in VRAM.
 */
export function executionProvidersFor(device: DeviceId): InferenceSession.ExecutionProviderConfig[] {
  if (device === 'cpu') return ['cpu'];
  return [{ name: 'cuda', deviceId: cudaIndex(device) }];
}

/**
 * One session runs at a time per worker, so inter-op parallelism would only oversubscribe the
 * cores the other workers use; intra-op threads are the one knob (see bench/worker-pool.ts).
 */
export function sessionOptionsFor(opts: LoadOptions, init: WorkerInit): InferenceSession.SessionOptions {
  return {
    executionProviders: executionProvidersFor(opts.device),
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    enableCpuMemArena: opts.enableCpuMemArena ?? true,
    executionMode: 'sequential',
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    // Errors only: onnxruntime warns on stderr about harmless graph clean-ups in shipped models.
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: init.allowSpinning ? '1' : '0' } } },
  };
}
