import type { Worker } from 'node:worker_threads';
import type { DeviceId } from '../runner.js';
import type { Feeds, Outputs } from '../tensor.js';

/** The few logger methods the pool uses; a pino Logger fits. */
export interface PoolLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What every worker thread is started with. */
export interface WorkerInit {
  /** Slot index in the pool, stable across replacements. */
  slot: number;
  intraOpThreads: number;
  allowSpinning: boolean;
}

/** Starts one worker thread; tests swap it to observe or kill workers. */
export type WorkerFactory = (init: WorkerInit) => Worker;

export interface InferencePoolOptions {
  /** Worker threads, each owning its own sessions. */
  workers: number;
  /** onnxruntime intra-op threads per session. */
  intraOpThreads: number;
  /**
   * Whether idle intra-op threads spin-wait for work (onnxruntime's default). Off by default: with
   * two workers sharing the cores, spinning cost 10–25% throughput (bench/worker-pool.ts).
   */
  allowSpinning?: boolean;
  logger: PoolLogger;
  /** Runs allowed to wait per worker (not counting the one in flight); beyond it run() rejects. */
  maxQueuedPerWorker?: number;
  workerFactory?: WorkerFactory;
}

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface LoadOptions {
  modelPath: string;
  /** Execution providers follow from it: 'cpu' → CPU only; 'cuda:N' → CUDA device N. */
  device: DeviceId;
  graphOptimizationLevel?: GraphOptimizationLevel;
  enableCpuMemArena?: boolean;
}

export interface LoadResult {
  /** Time to create the session, measured in the worker. */
  loadMs: number;
  /**
   * Best-effort footprint: process RSS delta around session creation, measured in the worker.
   * RSS is process-wide, so a concurrent load or run in another worker skews it; it counts host
   * memory only (not VRAM) and misses arena growth that happens on the first run.
   */
  measuredMB: number;
  inputNames: string[];
  outputNames: string[];
}

export interface PoolRunOptions {
  /** Only these outputs are computed and sent back. */
  outputs?: string[];
  /** Removes the run if it is still queued; a run already in flight completes. */
  signal?: AbortSignal;
}

export interface PoolRunResult {
  outputs: Outputs;
  /** Time inside session.run(), measured in the worker. */
  inferenceMs: number;
}

export interface WorkerStats {
  slot: number;
  threadId: number;
  sessions: string[];
  /** Requests waiting behind the one in flight. */
  queued: number;
  busy: boolean;
  /** False for a worker that died starting and was not replaced. */
  alive: boolean;
}

export interface WorkerExitEvent {
  slot: number;
  threadId: number;
  exitCode: number;
  /** The uncaught error or resource-limit error that killed the worker, if any. */
  error?: Error;
  /** False when the pool is closing or the worker never started (no respawn loop). */
  replaced: boolean;
}

export interface SessionsLostEvent {
  slot: number;
  /** Session keys that lived in the dead worker; load them again before the next run. */
  keys: string[];
}

/** Typed pool events: `pool.on('workerExit', (e) => …)` is checked against these. */
export interface InferencePoolEvents {
  workerExit: [WorkerExitEvent];
  sessionsLost: [SessionsLostEvent];
}

/** The pool as the ModelManager uses it; fakes implement this in manager tests. */
export interface SessionPool {
  load(key: string, opts: LoadOptions): Promise<LoadResult>;
  /**
   * Feed buffers that a tensor fully covers are transferred, not copied: the caller's typed arrays
   * are detached (length 0) once run() is called. Copy them first to run the same feeds again.
   */
  run(key: string, feeds: Feeds, opts?: PoolRunOptions): Promise<PoolRunResult>;
  unload(key: string): Promise<void>;
  has(key: string): boolean;
  stats(): WorkerStats[];
  close(): Promise<void>;
}
