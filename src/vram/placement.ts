import { type ModelRecord, type Pool, type Session } from './state.js';
import type { Victim } from './types.js';

/**
 * Pure placement helpers: each answers one question about a pool, so every branch of the
 * placement tree is tested on its own. The scheduler composes them and commits the result.
 */

/**
 * Promotion headroom: 10 % of the model's estimate, at least 64 MB. onnxruntime's CUDA arena grows
 * in power-of-two chunks by default (arena_extend_strategy kNextPowerOfTwo) as input shapes change,
 * so a model measured after one warm-up can need more on a larger image; one admitted into exactly
 * its measured size would OOM on the next big input and bounce back to CPU.
 */
export const PROMOTION_MARGIN = 0.1;
export const PROMOTION_MARGIN_MIN_MB = 64;

export const formatMB = (mb: number): string => `${Math.round(mb)} MB`;

export function fitsInZone(pool: Pool, mb: number): boolean {
  return pool.freeMB >= mb;
}

/**
 * May this session be pushed out? Only an idle (no leases), loaded, unpinned session that serves
 * its model's requests, of a model not already mid-move.
 */
export function isEvictable(session: Session, model: ModelRecord): boolean {
  return (
    session.state === 'ready' &&
    session.leases === 0 &&
    session.retiring === null &&
    model.active === session.device &&
    model.spec.zone !== 'critical' &&
    model.sessions.length === 1
  );
}

/** Least recently used first; among equally idle sessions, the lower priority leaves first. */
export function lruOrder(sessions: Session[], priorityOf: (modelId: string) => number): Session[] {
  return [...sessions].sort(
    (a, b) => a.lastUsed - b.lastUsed || priorityOf(a.modelId) - priorityOf(b.modelId),
  );
}

/** The shortest prefix of `candidates` (in eviction order) whose memory, added to the free room, fits `needMB`. */
export function pickVictims(freeMB: number, needMB: number, candidates: readonly Session[]): Session[] | null {
  let free = freeMB;
  const chosen: Session[] = [];
  for (const s of candidates) {
    if (free >= needMB) break;
    chosen.push(s);
    free += s.mb;
  }
  return free >= needMB ? chosen : null;
}

export type RoomVerdict =
  | { kind: 'fits' }
  | { kind: 'evict'; victims: Session[] }
  /** Would fit once runs in flight, loads or unloads finish. */
  | { kind: 'blocked'; busy: string[] }
  /** Cannot fit even with every evictable model gone. */
  | { kind: 'never'; pinnedMB: number };

/** Can `needMB` be had in `pool`, and at what price? `order` ranks the victims (LRU unless told). */
export function makeRoom(
  pool: Pool,
  needMB: number,
  models: (id: string) => ModelRecord,
  order: (candidates: Session[]) => Session[] = (c) => lruOrder(c, (id) => models(id).spec.priority ?? 0),
): RoomVerdict {
  if (fitsInZone(pool, needMB)) return { kind: 'fits' };
  const all = [...pool.sessions];
  const evictable = all.filter((s) => isEvictable(s, models(s.modelId)));
  const ordered = order(evictable);
  const victims = pickVictims(pool.freeMB, needMB, ordered);
  if (victims) return { kind: 'evict', victims };
  const pinned = all.filter((s) => models(s.modelId).spec.zone === 'critical' && s.state !== 'unloading');
  const pinnedMB = pinned.reduce((sum, s) => sum + s.mb, 0);
  if (needMB > pool.budgetMB - pinnedMB) return { kind: 'never', pinnedMB };
  const busy = all.filter((s) => !evictable.includes(s) && !pinned.includes(s)).map((s) => s.modelId);
  return { kind: 'blocked', busy };
}

/**
 * Where GPU victims go: a CPU session while host memory has room for it (first come, first
 * served, without evicting anything on the host), else unloaded; all unloaded when the policy
 * keeps no CPU sessions for them. CPU victims are unloaded.
 */
export function victimDestinations(
  victims: readonly Session[],
  cpu: Pool,
  cpuEstimate: (modelId: string) => number,
  toCpu = true,
): Victim[] {
  let free = cpu.freeMB;
  return victims.map((s) => {
    const base = { modelId: s.modelId, from: s.device, mb: s.mb };
    if (s.device === 'cpu' || !toCpu) return { ...base, to: 'unload' as const };
    const need = cpuEstimate(s.modelId);
    if (need > free) return { ...base, to: 'unload' as const };
    free -= need;
    return { ...base, to: 'cpu' as const };
  });
}

export function promotionMargin(estimateMB: number): number {
  return Math.max(PROMOTION_MARGIN_MIN_MB, Math.ceil(estimateMB * PROMOTION_MARGIN));
}

export type PromotionVerdict =
  | { ok: true; reason: string }
  /** `needsRoom`: only free room is missing, so idle-long-enough victims may make it. */
  | { ok: false; reason: string; needsRoom: boolean };

/**
 * May a model serving from CPU return to the GPU now? Not while it moves, nor within the dwell
 * after an out-of-memory demotion (the estimate it failed with was just raised, and the input that
 * broke it may come again); and only into free room with a margin. Making room is left to the
 * caller, whose policy decides whom the model may push out.
 */
export function promotionCheck(
  model: ModelRecord,
  pool: Pool,
  estimateMB: number,
  now: number,
  dwellMs: number,
): PromotionVerdict {
  const id = model.spec.id;
  if (model.sessions.length !== 1) return { ok: false, reason: `${id} is mid-move`, needsRoom: false };
  if (model.demotedAt !== null && now - model.demotedAt < dwellMs) {
    return { ok: false, reason: `${id} demoted ${Math.round((now - model.demotedAt) / 1000)} s ago`, needsRoom: false };
  }
  const margin = promotionMargin(estimateMB);
  if (pool.freeMB < estimateMB + margin) {
    const reason = `${pool.label} has ${formatMB(pool.freeMB)} free < ${formatMB(estimateMB)} + ${formatMB(margin)} margin`;
    return { ok: false, reason, needsRoom: true };
  }
  return {
    ok: true,
    reason: `promote ${id} to ${pool.label}: ${formatMB(pool.freeMB)} free ≥ ${formatMB(estimateMB)} + ${formatMB(margin)} margin`,
  };
}
