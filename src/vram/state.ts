import type { DeviceId, LoadTicket, ModelSpec, SessionState, Zone } from './types.js';

/** One session of one model on one device, as the scheduler accounts for it. */
export interface Session {
  readonly modelId: string;
  readonly device: DeviceId;
  readonly pool: Pool;
  /** The load that creates this session: shared by its load placement and every wait on it. */
  readonly ticket: LoadTicket;
  state: SessionState;
  /** Why it serves no new requests (after a promotion or an OOM); it unloads when its last lease ends. */
  retiring: string | null;
  mb: number;
  /** Invariant: a session with leases > 0 is never chosen as a victim nor unloaded. */
  leases: number;
  lastUsed: number;
  /** When its load was decided: a GPU load's duration is timed from here. */
  since: number;
  /** When it finished loading. */
  readyAt: number | null;
  runs: number;
  keepAlive: unknown;
}

export interface ModelRecord {
  spec: ModelSpec;
  /** The device whose session serves new requests; null when none does. */
  active: DeviceId | null;
  /** Usually one; two while a model moves (an old session unloading or draining next to a new one). */
  sessions: Session[];
  estimates: Map<DeviceId, number>;
  measured: Map<DeviceId, number>;
  /** When the model was last demoted off the GPU (out of memory, or measured over its zone); starts the promotion dwell. */
  demotedAt: number | null;
}

/** A memory budget: one GPU zone, or the host memory for CPU sessions (zone null). */
export class Pool {
  readonly sessions = new Set<Session>();

  constructor(
    readonly device: DeviceId,
    readonly zone: Zone | null,
    readonly budgetMB: number,
  ) {}

  get usedMB(): number {
    return this.sum((s) => s.state !== 'unloading');
  }

  /** Memory of sessions being disposed: still taken until the manager reports them unloaded. */
  get releasingMB(): number {
    return this.sum((s) => s.state === 'unloading');
  }

  get freeMB(): number {
    return this.budgetMB - this.usedMB - this.releasingMB;
  }

  get label(): string {
    return this.zone ?? 'host memory';
  }

  private sum(pred: (s: Session) => boolean): number {
    let total = 0;
    for (const s of this.sessions) if (pred(s)) total += s.mb;
    return total;
  }
}

/** The session serving new requests, if any. */
export function activeSession(model: ModelRecord): Session | undefined {
  return model.sessions.find((s) => s.device === model.active && s.state !== 'unloading' && s.retiring === null);
}

export function findSession(model: ModelRecord, device: DeviceId, state: SessionState): Session | undefined {
  return model.sessions.find((s) => s.device === device && s.state === state);
}
