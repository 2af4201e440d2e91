import type { Session } from './state.js';
import type { Traffic } from './traffic.js';

/**
 * The choices that make one caching policy differ from another; the scheduler's machinery
 * (reservations, leases, pinning, waits, out-of-memory) is the same under all of them.
 */
export interface PlacementPolicy {
  readonly name: string;
  /** A zone's evictable sessions in eviction order: the first leaves first. */
  victimOrder(candidates: readonly Session[], now: number): Session[];
  /**
   * May `modelId` take GPU room from `victims` (the shortest prefix that frees enough)? A refusal
   * serves it on CPU; `onCpu` says whether it already has a CPU session there or needs one loaded.
   */
  mayDisplace(modelId: string, victims: readonly Session[], now: number, where: { onCpu: boolean }): boolean;
  /** Whether a model pushed off the GPU keeps a CPU session (loaded at once) or is unloaded. */
  readonly victimsToCpu: boolean;
}

/** Builds a policy over the scheduler's traffic statistics and its GPU size estimates (MB). */
export type PolicyFactory = (traffic: Traffic, estimateMB: (modelId: string) => number) => PlacementPolicy;

/** ms of GPU load per MB of session, until a model's own load has been timed (MODELS.md: 170 MB ISNet ≈ 0.5 s). */
export const DEFAULT_GPU_LOAD_MS_PER_MB = 3;
/**
 * How much slower a run is on CPU than on the GPU, until both have been timed: "one to two orders
 * of magnitude" for the High models (MODELS.md), so the low end.
 */
export const DEFAULT_CPU_SLOWDOWN = 10;

const byLastUsed = (a: Session, b: Session) => a.lastUsed - b.lastUsed;

/** Plain per-zone LRU: every miss loads on the GPU, pushing out the least recently used idle sessions. */
export const lruPolicy: PolicyFactory = () => ({
  name: 'lru',
  victimOrder: (candidates) => [...candidates].sort(byLastUsed),
  mayDisplace: () => true,
  victimsToCpu: false,
});

/**
 * Belady's furthest-next-use within the zone, given an oracle of each model's next request after
 * `now` (Infinity for none): the offline optimum for hits with equal sizes, the reference the
 * online policies are measured against.
 */
export function furthestNextUsePolicy(nextUse: (modelId: string, now: number) => number): PolicyFactory {
  return () => ({
    name: 'belady',
    victimOrder: (candidates, now) => [...candidates].sort((a, b) => nextUse(b.modelId, now) - nextUse(a.modelId, now) || byLastUsed(a, b)),
    mayDisplace: () => true,
    victimsToCpu: false,
  });
}

/**
 * The service's policy: furthest *expected* next use, from each model's smoothed request gap
 * (Traffic.expectedWait). A model takes GPU room only from models expected later than itself, so
 * hot models stay resident and a cold one runs on CPU instead of pushing a hot one out. A model
 * refused the GPU is let in anyway once its CPU runs have cost more than a GPU load (rent or buy:
 * never more than twice the better choice's cost, whatever its rate estimate says).
 *
 * Victims are ranked by expected wait × size: the memory-time a session would hold idle, so one
 * big cold model leaves before several small warm ones (more hits per MB). They are unloaded, not
 * moved to a CPU session: a model asked for again gets its CPU session then, if the GPU refuses
 * it. `adaptive(true)` moves them at once, as the design card first had it; that cost 1.25–1.74 ×
 * Belady's loads on the committed traces, against 0.78–0.99 × lazily (bench/scheduler-replay.ts).
 */
export function adaptive(victimsToCpu = false): PolicyFactory {
  return (traffic, estimateMB) => {
    const wait = (modelId: string, now: number) => traffic.expectedWait(modelId, now);
    const guessedLoad = (modelId: string) => estimateMB(modelId) * DEFAULT_GPU_LOAD_MS_PER_MB;
    const loadCost = (modelId: string) => traffic.get(modelId)?.gpuLoadMs ?? guessedLoad(modelId);
    const cpuLoadCost = (modelId: string) => traffic.get(modelId)?.cpuLoadMs ?? guessedLoad(modelId);
    /** What one run on CPU costs beyond its GPU run; Infinity while neither has been timed. */
    const cpuPenalty = (modelId: string) => {
      const t = traffic.get(modelId);
      if (t?.gpuRunMs === undefined && t?.cpuRunMs === undefined) return Infinity;
      const gpu = t.gpuRunMs ?? t.cpuRunMs! / DEFAULT_CPU_SLOWDOWN;
      const cpu = t.cpuRunMs ?? t.gpuRunMs! * DEFAULT_CPU_SLOWDOWN;
      return cpu - gpu;
    };
    return {
      name: victimsToCpu ? 'adaptive, victims to CPU' : 'adaptive',
      victimOrder: (candidates, now) => [...candidates].sort((a, b) => wait(b.modelId, now) * b.mb - wait(a.modelId, now) * a.mb || byLastUsed(a, b)),
      mayDisplace(modelId, victims, now, { onCpu }) {
        const mine = wait(modelId, now);
        if (victims.every((v) => wait(v.modelId, now) >= mine)) return true;
        // Colder than what it would push out, but serving it on CPU would cost more than loading it.
        const load = loadCost(modelId);
        if (cpuPenalty(modelId) + (onCpu ? 0 : cpuLoadCost(modelId)) >= load) return true;
        return (traffic.get(modelId)?.cpuPenaltyMs ?? 0) >= load;
      },
      victimsToCpu,
    };
  };
}

/** What the scheduler runs unless told otherwise. */
export const adaptivePolicy = adaptive();
