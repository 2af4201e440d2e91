import type { PolicyFactory } from './policy.js';

/**
 * Public contract of the VRAM scheduler (src/vram). The scheduler decides where each model's
 * session lives and when it leaves; the ModelManager carries the decisions out (creating and
 * disposing sessions) and reports back. Nothing here imports onnxruntime.
 */

export type DeviceId = 'cpu' | `cuda:${number}`;

/** N of 'cuda:N'. */
export const cudaIndex = (device: `cuda:${number}`): number => Number(device.slice('cuda:'.length));

/** One session's key, "model@device": a model may have a session per device. */
export const sessionKey = (modelId: string, device: DeviceId): string => `${modelId}@${device}`;

export function parseSessionKey(key: string): { modelId: string; device: DeviceId } {
  const at = key.lastIndexOf('@');
  return { modelId: key.slice(0, at), device: key.slice(at + 1) as DeviceId };
}

export type Zone = 'critical' | 'high' | 'flexible';

export const ZONES: readonly Zone[] = ['critical', 'high', 'flexible'];

/** Megabytes per GPU zone. */
export interface ZoneSizes {
  critical: number;
  high: number;
  flexible: number;
}

export interface ModelSpec {
  id: string;
  zone: Zone;
  /** Manifest estimate of a loaded session's memory on the GPU, MB. */
  estimatedMB: number;
  /** The same for a CPU session (host RAM); defaults to estimatedMB. */
  cpuEstimatedMB?: number;
  /** 0..100; breaks ties between equally idle victims (lower leaves first). */
  priority?: number;
}

export type PlacementKind = 'reuse' | 'wait' | 'load' | 'evictThenLoad' | 'cpuFallback' | 'reject';

/** Decisions that do not answer a request: idle/drain unloads and out-of-memory demotions. */
export type DecisionKind = PlacementKind | 'unload' | 'demote';

/**
 * Identifies one load of one session. A load placement and every `wait` on it carry the same
 * ticket, so the manager shares one promise per load (e.g. a WeakMap<LoadTicket, Promise>).
 */
export interface LoadTicket {
  readonly id: number;
  readonly modelId: string;
  readonly device: DeviceId;
}

/** A model pushed out to make room: its `from` session is disposed, then (to 'cpu') reloaded on CPU. */
export interface Victim {
  modelId: string;
  from: DeviceId;
  to: 'cpu' | 'unload';
  /** Memory its `from` session held. */
  mb: number;
  /** For to 'cpu': the ticket of the victim's CPU load (requests for it wait on this). */
  ticket?: LoadTicket;
}

export interface Decision {
  kind: DecisionKind;
  modelId: string;
  /** Where the model runs (placements) or the session concerned (unload, demote); null on reject. */
  device: DeviceId | null;
  zone: Zone;
  /** Memory reserved on `device` for the model (its estimate or measured size). */
  mb: number;
  victims: Victim[];
  /** Human-readable, e.g. "evict isnet from high: need 420 MB for esrgan". */
  reason: string;
  /** now() when decided. */
  at: number;
}

/**
 * What a request gets: `reuse` (session ready on device), `wait` (a load of it is under way: await
 * the shared load), `load`/`evictThenLoad`/`cpuFallback` (carry out victims, then load on device).
 * A `reject` is never returned: acquire() throws an AppError carrying it in `details.decision`.
 */
export interface Placement extends Decision {
  kind: PlacementKind;
  device: DeviceId;
  /** The load to carry out (load kinds) or to wait for (`wait`); null for `reuse`. */
  ticket: LoadTicket | null;
}

/** An unload the scheduler decided on its own (keep-alive expiry, drain after promotion, OOM demotion). */
export interface UnloadOrder extends Decision {
  kind: 'unload';
  device: DeviceId;
}

/**
 * A claim on one model's session on one device. While any lease on a session is held, that
 * session is never evicted or unloaded. release() is idempotent; the keep-alive timer of the
 * session starts when its last lease ends.
 */
export interface Lease {
  readonly modelId: string;
  readonly device: DeviceId;
  readonly placement: Placement;
  release(): void;
}

export type SessionState = 'loading' | 'ready' | 'unloading';

export interface SessionSnapshot {
  device: DeviceId;
  state: SessionState;
  /** True for a session that serves no new requests and unloads when its leases end. */
  retiring: boolean;
  mb: number;
  leases: number;
  lastUsed: number;
  runs: number;
}

export interface ModelSnapshot {
  id: string;
  zone: Zone;
  /** State of the session serving new requests, or 'unloaded'. */
  state: SessionState | 'unloaded';
  /** The device serving new requests, if any. */
  device: DeviceId | null;
  /** Current estimate per device (manifest, or measured/raised and persisted). */
  estimatedMB: Partial<Record<DeviceId, number>>;
  /** Sizes reported by the manager after load/warm-up, per device. */
  measuredMB: Partial<Record<DeviceId, number>>;
  leases: number;
  lastUsed: number | null;
  runs: number;
  sessions: SessionSnapshot[];
}

/** One accounting unit: a GPU zone, or the host-memory budget of CPU sessions (zone null). */
export interface PoolSnapshot {
  device: DeviceId;
  zone: Zone | null;
  budgetMB: number;
  /** Sessions loading or loaded. */
  usedMB: number;
  /** Sessions being disposed: still counted as taken until unloaded() is reported. */
  releasingMB: number;
  models: string[];
}

export interface VramSnapshot {
  devices: { id: DeviceId; totalMB: number }[];
  pools: PoolSnapshot[];
  models: ModelSnapshot[];
  /** Most recent first; reuse/wait are logged at debug level but not kept here. */
  decisions: Decision[];
}

/** Persisted size estimates, per model and device (src/db/model-stats.ts implements it). */
export interface EstimateStore {
  get(modelId: string, device: DeviceId): number | undefined;
  set(modelId: string, device: DeviceId, mb: number): void;
}

export interface SchedulerLogger {
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The subset of setTimeout/clearTimeout the scheduler uses, so tests drive a fake clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface GpuSpec {
  id: `cuda:${number}`;
  totalMB: number;
  /** MB per zone; defaults to 2048/2560/1536 of 6144 scaled to totalMB (VRAM_ZONES overrides). */
  zones?: ZoneSizes;
}

export interface SchedulerOptions {
  /** Absent when the CUDA execution provider is not available: everything runs on CPU. */
  gpu?: GpuSpec;
  /** Host memory for CPU sessions, MB (CPU_MODEL_MEMORY_MB). */
  cpuBudgetMB: number;
  /** Idle time after which a non-critical session is unloaded, ms (MODEL_KEEP_ALIVE). */
  keepAliveMs: number;
  models?: ModelSpec[];
  estimates?: EstimateStore;
  logger?: SchedulerLogger;
  now?: () => number;
  timers?: Timers;
  /** How long a request blocked only by runs in flight waits for room before falling back, ms. */
  roomWaitMs?: number;
  /** A model demoted to CPU by an out-of-memory is not promoted back for at least this long, ms. */
  promotionDwellMs?: number;
  /** Whom a model may push out of a GPU zone; the adaptive policy unless told (src/vram/policy.ts). */
  policy?: PolicyFactory;
  /** Number of decisions kept for the snapshot. */
  historySize?: number;
  /** Called with every decision, routine ones too (the metrics count them). */
  onDecision?: (d: Decision) => void;
}
