import type { Decision, SchedulerLogger } from './types.js';

/** reuse/wait answer most requests; keeping them would flush the interesting decisions out. */
const ROUTINE = new Set<Decision['kind']>(['reuse', 'wait']);
const WARNINGS = new Set<Decision['kind']>(['reject', 'demote']);

/**
 * Logs every decision with its fields and reason, and keeps the last `capacity` state-changing
 * ones in a ring buffer for GET /api/v1/vram.
 */
export class DecisionLog {
  private readonly ring: (Decision | undefined)[];
  private next = 0;
  private count = 0;

  constructor(
    capacity: number,
    private readonly logger?: SchedulerLogger,
    /** Sees every decision, routine ones too (metrics count them). */
    private readonly onDecision?: (d: Decision) => void,
  ) {
    this.ring = new Array<Decision | undefined>(Math.max(1, capacity));
  }

  record(d: Decision): void {
    this.onDecision?.(d);
    const fields = {
      vram: d.kind,
      modelId: d.modelId,
      device: d.device,
      zone: d.zone,
      mb: d.mb,
      victims: d.victims.length ? d.victims : undefined,
    };
    if (ROUTINE.has(d.kind)) {
      this.logger?.debug(fields, d.reason);
      return;
    }
    if (WARNINGS.has(d.kind)) this.logger?.warn(fields, d.reason);
    else this.logger?.info(fields, d.reason);
    this.ring[this.next] = d;
    this.next = (this.next + 1) % this.ring.length;
    this.count = Math.min(this.count + 1, this.ring.length);
  }

  /** Most recent first. */
  recent(): Decision[] {
    const out: Decision[] = [];
    for (let i = 1; i <= this.count; i++) {
      const d = this.ring[(this.next - i + this.ring.length) % this.ring.length];
      if (d) out.push(d);
    }
    return out;
  }
}
