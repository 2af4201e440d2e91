/** The VRAM scheduler's public surface: the ModelManager imports from here. */
export * from './types.js';
export { VramScheduler, DEFAULT_PROMOTION_DWELL_MS, DEFAULT_ROOM_WAIT_MS, OOM_ESTIMATE_GROWTH } from './scheduler.js';
export { PlacementExecutor, type SessionDriver, type ExecutorOptions } from './executor.js';
export { isOutOfMemory } from './out-of-memory.js';
export { zoneBudgets, REFERENCE_ZONES, REFERENCE_TOTAL_MB } from './zones.js';
