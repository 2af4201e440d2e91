import type { DeviceId } from './types.js';

/**
 * Weight of the newest gap in a model's mean inter-request gap. Requests of one model arrive about
 * as a Poisson stream, whose gaps vary as much as their mean, so the mean needs several gaps to
 * settle; 0.2 follows a popularity shift within about ten requests (bench/scheduler-replay.ts).
 */
export const GAP_SMOOTHING = 0.2;

/** What the scheduler has seen of one model's requests, runs and loads. */
export interface ModelTraffic {
  lastRequest: number;
  /** Smoothed time between its requests, ms; undefined until it has had two. */
  meanGapMs: number | undefined;
  /** Smoothed duration of its GPU runs, ms. */
  gpuRunMs: number | undefined;
  /** Smoothed duration of its CPU runs, ms. */
  cpuRunMs: number | undefined;
  /** How long its last GPU load took, ms. */
  gpuLoadMs: number | undefined;
  /** How long its last CPU load took, ms. */
  cpuLoadMs: number | undefined;
  /** Time its CPU runs took beyond what the GPU would have needed, since it last left the GPU, ms. */
  cpuPenaltyMs: number;
}

const smooth = (old: number | undefined, value: number) => (old === undefined ? value : old + GAP_SMOOTHING * (value - old));

/** Per-model request and run statistics, the input of the placement policy. */
export class Traffic {
  private readonly models = new Map<string, ModelTraffic>();
  private firstSeen: number | undefined;

  get(modelId: string): ModelTraffic | undefined {
    return this.models.get(modelId);
  }

  requested(modelId: string, now: number): void {
    this.firstSeen ??= now;
    const t = this.models.get(modelId);
    if (!t) {
      // Not asked for since traffic began: its gap is at least that long.
      const quiet = now - this.firstSeen;
      this.models.set(modelId, { lastRequest: now, meanGapMs: quiet > 0 ? quiet : undefined, gpuRunMs: undefined, cpuRunMs: undefined, gpuLoadMs: undefined, cpuLoadMs: undefined, cpuPenaltyMs: 0 });
      return;
    }
    t.meanGapMs = smooth(t.meanGapMs, now - t.lastRequest);
    t.lastRequest = now;
  }

  ran(modelId: string, device: DeviceId, ms: number): void {
    const t = this.models.get(modelId);
    if (!t) return;
    if (device !== 'cpu') {
      t.gpuRunMs = smooth(t.gpuRunMs, ms);
      return;
    }
    t.cpuRunMs = smooth(t.cpuRunMs, ms);
    t.cpuPenaltyMs += Math.max(0, ms - (t.gpuRunMs ?? 0));
  }

  loaded(modelId: string, device: DeviceId, ms: number): void {
    const t = this.models.get(modelId);
    if (!t) return;
    if (device === 'cpu') t.cpuLoadMs = ms;
    else t.gpuLoadMs = ms;
  }

  /** The model lost its GPU session: what its CPU runs cost from now on counts towards coming back. */
  leftGpu(modelId: string): void {
    const t = this.models.get(modelId);
    if (t) t.cpuPenaltyMs = 0;
  }

  /**
   * How long until the model's next request is expected, ms. Requests of one model arrive about as a
   * Poisson stream, so the wait ahead is its mean gap however long ago the last one came, unless it
   * has been quiet for longer than that: then its rate has fallen, and the quiet so far is the
   * better guess. A model seen once has only its quiet; one never seen, Infinity.
   */
  expectedWait(modelId: string, now: number): number {
    const t = this.models.get(modelId);
    if (!t) return Infinity;
    return Math.max(t.meanGapMs ?? 0, now - t.lastRequest);
  }
}
