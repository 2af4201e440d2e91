// The one OOM test the scheduler uses; its own module, so worker threads load nothing else of src/vram.
import { isOutOfMemory } from '../../vram/out-of-memory.js';

/**
 * Errors the inference pool rejects with. They are internal: the ModelManager maps them to AppError
 * codes (crash → PROCESSING_ERROR, retryable; queue full → OVERLOADED; oom → demote to CPU).
 */

/** The worker holding the request died (uncaught error, process.exit, heap limit) before answering. */
export class WorkerCrashedError extends Error {
  readonly retryable = true;

  constructor(
    readonly slot: number,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(`inference worker ${slot} exited with code ${exitCode} before answering; its sessions are reloaded on the next request`, options);
    this.name = 'WorkerCrashedError';
  }
}

/** onnxruntime failed inside the worker; `oom` says the failure was an allocation. */
export class InferenceError extends Error {
  readonly oom: boolean;

  constructor(
    readonly key: string,
    readonly operation: 'load' | 'run' | 'unload',
    message: string,
  ) {
    super(`${operation} of ${key} failed: ${message}`);
    this.name = 'InferenceError';
    this.oom = isOutOfMemory(message);
  }
}

export class SessionNotLoadedError extends Error {
  constructor(readonly key: string) {
    super(`no session "${key}" is loaded in the inference pool: load it first (it may have been unloaded or lost with a crashed worker)`);
    this.name = 'SessionNotLoadedError';
  }
}

export class SessionAlreadyLoadedError extends Error {
  constructor(readonly key: string) {
    super(`session "${key}" is already loaded or loading: unload it before loading it again`);
    this.name = 'SessionAlreadyLoadedError';
  }
}

export class QueueFullError extends Error {
  constructor(
    readonly slot: number,
    readonly limit: number,
  ) {
    super(`inference worker ${slot} already has ${limit} runs waiting: retry later`);
    this.name = 'QueueFullError';
  }
}

/** Named AbortError so callers that check `err.name === 'AbortError'` treat it like fetch's. */
export class RunAbortedError extends Error {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`run of ${key} was aborted while queued`, options);
    this.name = 'AbortError';
  }
}

export class PoolClosedError extends Error {
  constructor() {
    super('the inference pool is closed (the service is shutting down)');
    this.name = 'PoolClosedError';
  }
}

/** Every worker died while starting (e.g. onnxruntime failed to load); nothing can run. */
export class NoWorkerError extends Error {
  constructor() {
    super('no inference worker is running: they exited while starting; the log says why (often onnxruntime failing to load)');
    this.name = 'NoWorkerError';
  }
}
