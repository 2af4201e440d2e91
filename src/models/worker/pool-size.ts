import os from 'node:os';

export interface PoolSize {
  workers: number;
  intraOpThreads: number;
}

/**
 * Defaults for INFERENCE_WORKERS and INTRA_OP_THREADS when unset, from bench/worker-pool.ts on
 * 2 cores (6× 64-channel 3×3 conv at 256², spin-waiting off):
 * - one run alone: 2 threads take 65–69 ms, 1 thread 129–176 ms, so every worker gets every core;
 * - two workers let one model's short run go past another model's long one, and cost 2–7%
 *   throughput at saturation against 1 worker × 2 threads (14.1–14.8 vs 14.6–15.2 runs/s);
 * - the HTTP thread's 5 ms timer lagged ≤ 5.5 ms at p99 in every pool setup, 77 ms with the model
 *   on the main thread.
 * A configured value wins; the threads default follows the resolved worker count.
 */
export function resolvePoolSize(configured: Partial<PoolSize> = {}, cpus: number = os.availableParallelism()): PoolSize {
  const workers = configured.workers ?? (cpus >= 2 ? 2 : 1);
  const intraOpThreads = configured.intraOpThreads ?? Math.max(1, cpus);
  return { workers, intraOpThreads };
}
