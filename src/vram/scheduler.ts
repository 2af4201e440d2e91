import { AppError } from '../errors.js';
import { DecisionLog } from './decision-log.js';
import { formatMB, makeRoom, promotionCheck, promotionMargin, victimDestinations } from './placement.js';
import { adaptivePolicy, type PlacementPolicy } from './policy.js';
import { buildSnapshot } from './snapshot.js';
import { Pool, activeSession, findSession, type ModelRecord, type Session } from './state.js';
import { Traffic } from './traffic.js';
import type {
  Decision, DecisionKind, DeviceId, EstimateStore, GpuSpec, Lease, ModelSpec, Placement,
  SchedulerLogger, SchedulerOptions, Timers, UnloadOrder, Victim, VramSnapshot, Zone,
} from './types.js';
import { ZONES } from './types.js';
import { zoneBudgets } from './zones.js';

/**
 * How long a High-zone request blocked only by runs in flight waits for room before running on
 * CPU. A GPU run of a High model (ISNet, depth) is one to two orders of magnitude faster than its
 * CPU run (ISNet medium ≈ 0.9 s on a 2-core CPU, MODELS.md), so a short wait usually wins.
 */
export const DEFAULT_ROOM_WAIT_MS = 2_000;
/**
 * A model demoted by an out-of-memory stays on CPU at least this long: the estimate it failed with
 * was just raised, and the input size that broke it usually comes again within the same burst.
 */
export const DEFAULT_PROMOTION_DWELL_MS = 30_000;
/**
 * An out-of-memory proves the estimate too low by an unknown amount; 1.5× converges in a few steps
 * without reserving double (the arena's power-of-two growth bounds the overshoot at 2×).
 */
export const OOM_ESTIMATE_GROWTH = 1.5;
export const DEFAULT_HISTORY = 100;

const BLOCKED = Symbol('blocked');
type Verdict = Placement | typeof BLOCKED | { reject: Decision; code: 'MODEL_UNAVAILABLE' | 'OVERLOADED' };
type GpuVerdict = Verdict | { fallback: string };

const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref(); // keep-alive timers must not hold the process open at shutdown
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Decides where each model's session lives (a GPU zone or CPU) and when sessions leave. Every
 * placement is a value the ModelManager carries out, reporting back with loaded / loadFailed /
 * unloaded; memory is reserved from the decision on, so concurrent requests see a load in flight.
 */
export class VramScheduler {
  private readonly records = new Map<string, ModelRecord>();
  private readonly cpu: Pool;
  private readonly zones = new Map<Zone, Pool>();
  private readonly gpu: GpuSpec | undefined;
  private readonly log: DecisionLog;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly store: EstimateStore | undefined;
  private readonly logger: SchedulerLogger | undefined;
  private readonly keepAliveMs: number;
  private readonly roomWaitMs: number;
  private readonly dwellMs: number;
  private readonly traffic = new Traffic();
  private readonly policy: PlacementPolicy;
  private readonly unloadListeners = new Set<(order: UnloadOrder) => void>();
  private readonly roomWaiters = new Set<(timedOut: boolean) => void>();
  private tickets = 0;

  constructor(opts: SchedulerOptions) {
    this.gpu = opts.gpu;
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? realTimers;
    this.store = opts.estimates;
    this.logger = opts.logger;
    this.keepAliveMs = opts.keepAliveMs;
    this.roomWaitMs = opts.roomWaitMs ?? DEFAULT_ROOM_WAIT_MS;
    this.dwellMs = opts.promotionDwellMs ?? DEFAULT_PROMOTION_DWELL_MS;
    this.log = new DecisionLog(opts.historySize ?? DEFAULT_HISTORY, opts.logger, opts.onDecision);
    this.cpu = new Pool('cpu', null, opts.cpuBudgetMB);
    const gpuId = opts.gpu?.id;
    this.policy = (opts.policy ?? adaptivePolicy)(this.traffic, (id) => (gpuId ? this.estimateOf(id, gpuId) : 0));
    if (opts.gpu) this.createZones(opts.gpu);
    for (const spec of opts.models ?? []) this.register(spec);
  }

  /** Adds a model (or updates its spec); persisted estimates override the manifest's. */
  register(spec: ModelSpec): void {
    const existing = this.records.get(spec.id);
    if (existing) {
      existing.spec = { ...spec };
      return;
    }
    const estimates = new Map<DeviceId, number>();
    for (const device of this.deviceIds()) {
      const stored = this.store?.get(spec.id, device);
      if (stored !== undefined) estimates.set(device, stored);
    }
    this.records.set(spec.id, {
      spec: { ...spec }, active: null, sessions: [], estimates, measured: new Map(), demotedAt: null,
    });
  }

  deviceIds(): DeviceId[] {
    return this.gpu ? [this.gpu.id, 'cpu'] : ['cpu'];
  }

  /** Current size estimate of a model's session on a device, MB. */
  estimateOf(modelId: string, device: DeviceId): number {
    return this.estimate(this.record(modelId), device);
  }

  /**
   * A lease on the session that will serve `modelId`. The placement says what the caller must do
   * first (nothing, await the shared load, or carry out victims then load). Throws AppError
   * MODEL_UNAVAILABLE when the model can never fit, OVERLOADED when host memory stays busy.
   */
  async acquire(modelId: string): Promise<Lease> {
    const model = this.record(modelId);
    this.traffic.requested(modelId, this.now());
    let mayWait = this.roomWaitMs > 0;
    const deadline = this.now() + this.roomWaitMs;
    for (;;) {
      const verdict = this.decide(model, mayWait);
      if (verdict !== BLOCKED) return this.grant(model, verdict);
      this.logger?.debug({ vram: 'queue', modelId }, `queue ${modelId}: waiting for runs in flight to free room`);
      const timedOut = await this.waitForRoom(deadline);
      if (timedOut) mayWait = false;
    }
  }

  /** The session of `modelId` on `device` finished loading; `measuredMB` corrects the estimate. */
  loaded(modelId: string, device: DeviceId, measuredMB?: number): void {
    const model = this.record(modelId);
    const session = findSession(model, device, 'loading');
    if (!session) {
      this.logger?.warn({ modelId, device }, `loaded() for ${modelId} on ${device}, which was not loading: ignored`);
      return;
    }
    session.state = 'ready';
    session.readyAt = this.now();
    this.traffic.loaded(modelId, device, session.readyAt - session.since);
    if (measuredMB !== undefined) this.applyMeasure(model, session, measuredMB);
    if (model.active === device) this.retireOthers(model, session);
    if (session.leases === 0) this.becameIdle(session);
    this.wakeWaiters();
  }

  /** The load failed; on out-of-memory the estimate is raised and a GPU model is demoted to CPU. */
  loadFailed(modelId: string, device: DeviceId, failure: { oom: boolean }): void {
    const model = this.record(modelId);
    const session = findSession(model, device, 'loading');
    if (!session) {
      this.logger?.warn({ modelId, device }, `loadFailed() for ${modelId} on ${device}, which was not loading: ignored`);
      return;
    }
    this.removeSession(model, session);
    this.activateStandby(model, session);
    if (failure.oom) this.demote(model, device, 'out of memory while loading');
    else this.logger?.warn({ modelId, device }, `load of ${modelId} on ${device} failed`);
    this.wakeWaiters();
  }

  /** A run failed; on out-of-memory the estimate is raised and a GPU session retires to CPU. */
  runFailed(modelId: string, device: DeviceId, failure: { oom: boolean }): void {
    if (!failure.oom) return;
    const model = this.record(modelId);
    const session = model.sessions.find((s) => s.device === device && s.state === 'ready');
    const raised = this.demote(model, device, 'out of memory during a run');
    if (!session) return;
    if (device === 'cpu') {
      session.mb = Math.max(session.mb, raised);
      return;
    }
    if (model.active === device) model.active = null;
    this.retire(session, `${modelId} ran out of memory on ${device}`);
  }

  /** The session was disposed (as ordered, or lost: a crashed worker takes its sessions with it). */
  unloaded(modelId: string, device: DeviceId): void {
    const model = this.record(modelId);
    const session =
      findSession(model, device, 'unloading') ?? model.sessions.find((s) => s.device === device);
    if (!session) return;
    if (session.state !== 'unloading') {
      this.logger?.warn({ modelId, device }, `${modelId} on ${device} was lost, not unloaded by order`);
      if (model.active === device) model.active = null;
    }
    this.removeSession(model, session);
    this.wakeWaiters();
  }

  /**
   * An operator asked for the model to leave memory: idle sessions unload now, sessions with runs in
   * flight retire and unload when their last lease ends (never evict while leased). Critical
   * models are unpinned only until their next request.
   */
  requestUnload(modelId: string, why: string): void {
    const model = this.record(modelId);
    for (const session of [...model.sessions]) {
      if (session.state !== 'ready') continue;
      if (model.active === session.device) model.active = null;
      this.retire(session, why);
    }
  }

  /** Unloads the scheduler decides on its own (keep-alive, drain after promotion, OOM retire). */
  onUnload(listener: (order: UnloadOrder) => void): () => void {
    this.unloadListeners.add(listener);
    return () => this.unloadListeners.delete(listener);
  }

  snapshot(): VramSnapshot {
    const devices = this.gpu
      ? [{ id: this.gpu.id, totalMB: this.gpu.totalMB }, { id: 'cpu' as const, totalMB: this.cpu.budgetMB }]
      : [{ id: 'cpu' as const, totalMB: this.cpu.budgetMB }];
    return buildSnapshot(devices, [...this.zones.values(), this.cpu], [...this.records.values()], this.log.recent());
  }

  /** Stops keep-alive timers and releases queued requests (they then fall back or are rejected). */
  close(): void {
    for (const model of this.records.values()) for (const s of model.sessions) this.clearKeepAlive(s);
    for (const waiter of [...this.roomWaiters]) waiter(true);
  }

  // ── placement tree ────────────────────────────────────────────────────────────────────────

  private decide(model: ModelRecord, mayWait: boolean): Verdict {
    const active = activeSession(model);
    const id = model.spec.id;
    if (active?.state === 'loading') {
      const wait = this.draft('wait', model, active.device, active.mb, [], `wait for the load of ${id} on ${active.device}`);
      return { ...wait, ticket: active.ticket };
    }
    if (active) return this.decideResident(model, active);
    let why = 'no GPU';
    if (this.gpu) {
      const onGpu = this.tryGpu(model, this.gpu.id, mayWait);
      if (onGpu === BLOCKED || !('fallback' in onGpu)) return onGpu;
      why = onGpu.fallback;
    }
    return this.tryCpu(model, mayWait, why);
  }

  private decideResident(model: ModelRecord, session: Session): Placement {
    const id = model.spec.id;
    if (session.device !== 'cpu' || !this.gpu) {
      return this.draft('reuse', model, session.device, session.mb, [], `reuse ${id} on ${session.device}`);
    }
    const pool = this.zonePool(model.spec.zone);
    const need = this.estimate(model, this.gpu.id);
    const verdict = promotionCheck(model, pool, need, this.now(), this.dwellMs);
    if (verdict.ok) return this.draft('load', model, this.gpu.id, need, [], verdict.reason);
    const withVictims = verdict.needsRoom ? this.promoteByEvicting(model, pool, need) : undefined;
    return withVictims ?? this.draft('reuse', model, 'cpu', session.mb, [], `reuse ${id} on cpu: ${verdict.reason}`);
  }

  /** A promotion pushes out only whom the policy lets it displace. */
  private promoteByEvicting(model: ModelRecord, pool: Pool, need: number): Placement | undefined {
    const gpu = this.gpu!.id;
    const now = this.now();
    const margin = promotionMargin(need);
    const room = makeRoom(pool, need + margin, (m) => this.record(m), (c) => this.policy.victimOrder(c, now));
    if (room.kind !== 'evict' || !this.policy.mayDisplace(model.spec.id, room.victims, now, { onCpu: true })) return undefined;
    const victims = this.victimsOf(room.victims);
    const names = room.victims.map((s) => `${s.modelId} (idle ${Math.round((now - s.lastUsed) / 1000)} s)`).join(', ');
    const reason = `promote ${model.spec.id} to ${pool.label}: evict ${names}: need ${formatMB(need)} + ${formatMB(margin)} margin`;
    return this.draft('evictThenLoad', model, gpu, need, victims, reason);
  }

  private victimsOf(sessions: readonly Session[]): Victim[] {
    return victimDestinations(sessions, this.cpu, (m) => this.estimate(this.record(m), 'cpu'), this.policy.victimsToCpu);
  }

  private tryGpu(model: ModelRecord, device: DeviceId, mayWait: boolean): GpuVerdict {
    const { id, zone } = model.spec;
    if (model.demotedAt !== null && this.now() - model.demotedAt < this.dwellMs) {
      return { fallback: `${id} left the GPU ${Math.round((this.now() - model.demotedAt) / 1000)} s ago` };
    }
    const pool = this.zonePool(zone);
    const need = this.estimate(model, device);
    const now = this.now();
    const room = makeRoom(pool, need, (m) => this.record(m), (c) => this.policy.victimOrder(c, now));
    if (room.kind === 'fits') {
      return this.draft('load', model, device, need, [], `load ${id} on ${device} (${zone}): ${formatMB(need)} fits in ${formatMB(pool.freeMB)} free`);
    }
    if (room.kind === 'evict') {
      if (!this.policy.mayDisplace(id, room.victims, now, { onCpu: false })) {
        return { fallback: `${id} is expected later than ${room.victims.map((v) => v.modelId).join(', ')} (${this.policy.name} policy)` };
      }
      const victims = this.victimsOf(room.victims);
      const names = victims.map((v) => `${v.modelId} (to ${v.to})`).join(', ');
      return this.draft('evictThenLoad', model, device, need, victims, `evict ${names} from ${zone}: need ${formatMB(need)} for ${id}, ${formatMB(pool.freeMB)} free`);
    }
    if (room.kind === 'blocked') {
      // Flexible models fall back at once; Critical cannot make room by evicting anyway.
      if (zone === 'high' && mayWait) return BLOCKED;
      return { fallback: `${zone} zone busy (${room.busy.join(', ')} in use)` };
    }
    return { fallback: `${id} needs ${formatMB(need)}, ${zone} zone holds ${formatMB(pool.budgetMB)} (${formatMB(room.pinnedMB)} pinned)` };
  }

  private tryCpu(model: ModelRecord, mayWait: boolean, why: string): Verdict {
    const id = model.spec.id;
    const need = this.estimate(model, 'cpu');
    const prefix = this.gpu ? `${id} to cpu: ${why}` : `load ${id} on cpu`;
    const room = makeRoom(this.cpu, need, (m) => this.record(m));
    if (room.kind === 'fits') {
      const kind = this.gpu ? 'cpuFallback' : 'load';
      return this.draft(kind, model, 'cpu', need, [], `${prefix}; ${formatMB(need)} fits in ${formatMB(this.cpu.freeMB)} of host memory`);
    }
    if (room.kind === 'evict') {
      const victims = victimDestinations(room.victims, this.cpu, () => Infinity);
      const kind = this.gpu ? 'cpuFallback' : 'evictThenLoad';
      const names = victims.map((v) => v.modelId).join(', ');
      return this.draft(kind, model, 'cpu', need, victims, `${prefix}; unload ${names} from host memory: need ${formatMB(need)} for ${id}`);
    }
    if (room.kind === 'blocked' && mayWait) return BLOCKED;
    if (room.kind === 'blocked') {
      const reason = `reject ${id}: ${this.gpu ? `${why}; ` : ''}host memory busy (${room.busy.join(', ')} in use): retry shortly`;
      return { reject: this.rejection(model, reason), code: 'OVERLOADED' };
    }
    const reason = `reject ${id}: ${this.gpu ? `${why}; ` : ''}needs ${formatMB(need)} on cpu, CPU_MODEL_MEMORY_MB is ${this.cpu.budgetMB} (${formatMB(room.pinnedMB)} pinned): raise it`;
    return { reject: this.rejection(model, reason), code: 'MODEL_UNAVAILABLE' };
  }

  // ── committing decisions ──────────────────────────────────────────────────────────────────

  private grant(model: ModelRecord, verdict: Exclude<Verdict, typeof BLOCKED>): Lease {
    if ('reject' in verdict) {
      this.log.record(verdict.reject);
      throw new AppError(verdict.code, verdict.reject.reason, {
        details: { modelId: model.spec.id, decision: verdict.reject },
        headers: verdict.code === 'OVERLOADED' ? { 'Retry-After': '1' } : undefined,
      });
    }
    const placement = verdict.kind === 'reuse' || verdict.kind === 'wait' ? verdict : this.commit(model, verdict);
    this.log.record(placement);
    const session = activeSession(model);
    if (!session) throw new Error(`scheduler invariant: ${model.spec.id} has no active session after ${verdict.kind}`);
    return this.lease(session, placement);
  }

  /** Reserves the memory of a load placement and returns it with the tickets of the new loads. */
  private commit(model: ModelRecord, p: Placement): Placement {
    const victims = p.victims.map((v) => this.evict(v));
    const session = this.addSession(model, p.device, p.mb);
    model.active = p.device;
    return { ...p, victims, ticket: session.ticket };
  }

  private evict(victim: Victim): Victim {
    const model = this.record(victim.modelId);
    const session = findSession(model, victim.from, 'ready');
    if (!session) throw new Error(`scheduler invariant: victim ${victim.modelId} has no ready session on ${victim.from}`);
    this.beginUnload(session);
    if (victim.from !== 'cpu') this.traffic.leftGpu(victim.modelId);
    if (victim.to === 'unload') {
      model.active = null;
      return victim;
    }
    const moved = this.addSession(model, 'cpu', this.estimate(model, 'cpu'));
    model.active = 'cpu';
    return { ...victim, ticket: moved.ticket };
  }

  private lease(session: Session, placement: Placement): Lease {
    session.leases++;
    session.lastUsed = this.now();
    const leasedAt = session.lastUsed;
    this.clearKeepAlive(session);
    let released = false;
    return {
      modelId: session.modelId,
      device: session.device,
      placement,
      release: () => {
        if (released) return;
        released = true;
        this.releaseLease(session, leasedAt);
      },
    };
  }

  private releaseLease(session: Session, leasedAt: number): void {
    session.leases = Math.max(0, session.leases - 1);
    session.lastUsed = this.now();
    if (session.state === 'ready') {
      session.runs++;
      // A lease taken while its session loaded ran only from the moment it was ready.
      this.traffic.ran(session.modelId, session.device, this.now() - Math.max(leasedAt, session.readyAt ?? leasedAt));
    }
    if (session.leases === 0) this.becameIdle(session);
    this.wakeWaiters();
  }

  /** Invariant: only a session with no leases reaches here; it either drains out or starts keep-alive. */
  private becameIdle(session: Session): void {
    if (!session.pool.sessions.has(session) || session.state !== 'ready') return;
    if (session.retiring !== null) {
      this.orderUnload(session, `unload ${session.modelId} from ${session.device}: ${session.retiring}`);
      return;
    }
    if (this.record(session.modelId).spec.zone === 'critical') return;
    this.clearKeepAlive(session);
    session.keepAlive = this.timers.setTimeout(() => {
      session.keepAlive = undefined;
      this.expire(session);
    }, this.keepAliveMs);
  }

  private expire(session: Session): void {
    if (!session.pool.sessions.has(session) || session.leases > 0) return;
    if (session.state !== 'ready' || session.retiring !== null) return;
    const seconds = Math.round(this.keepAliveMs / 1000);
    this.orderUnload(session, `unload ${session.modelId} from ${session.device}: idle for ${seconds} s (MODEL_KEEP_ALIVE)`);
  }

  private retireOthers(model: ModelRecord, keep: Session): void {
    for (const other of model.sessions) {
      if (other === keep || other.state !== 'ready' || other.retiring !== null) continue;
      this.retire(other, `${model.spec.id} now runs on ${keep.device}`);
    }
  }

  private retire(session: Session, why: string): void {
    session.retiring = why;
    this.clearKeepAlive(session);
    if (session.leases === 0) this.becameIdle(session);
  }

  private orderUnload(session: Session, reason: string): void {
    const model = this.record(session.modelId);
    if (model.active === session.device && session.retiring === null) model.active = null;
    this.beginUnload(session);
    const order: UnloadOrder = {
      kind: 'unload', modelId: session.modelId, device: session.device, zone: model.spec.zone,
      mb: session.mb, victims: [], reason, at: this.now(),
    };
    this.log.record(order);
    for (const listener of this.unloadListeners) listener(order);
  }

  /**
   * Records a demotion and starts its dwell. The estimate becomes `measuredMB` when the size is
   * known, else the out-of-memory growth of the old one. Returns the new estimate.
   */
  private demote(model: ModelRecord, device: DeviceId, what: string, measuredMB?: number): number {
    const before = this.estimate(model, device);
    const after = measuredMB ?? Math.ceil(before * OOM_ESTIMATE_GROWTH);
    this.setEstimate(model, device, after);
    if (device !== 'cpu') {
      model.demotedAt = this.now();
      this.traffic.leftGpu(model.spec.id);
    }
    const target = device === 'cpu' ? 'keeps cpu' : 'runs on cpu';
    const estimate = measuredMB === undefined ? `; estimate ${formatMB(before)} → ${formatMB(after)}, ${target}` : `; ${target}`;
    this.log.record(this.draftDecision('demote', model, device, after, [], `demote ${model.spec.id} from ${device}: ${what}${estimate}`));
    return after;
  }

  /** The model's other ready session (if any) takes over new requests from `leaving`. */
  private activateStandby(model: ModelRecord, leaving: Session): void {
    if (model.active !== leaving.device) return;
    const standby = model.sessions.find((s) => s !== leaving && s.state === 'ready' && s.retiring === null);
    model.active = standby?.device ?? null;
  }

  // ── bookkeeping ───────────────────────────────────────────────────────────────────────────

  private addSession(model: ModelRecord, device: DeviceId, mb: number): Session {
    const pool = device === 'cpu' ? this.cpu : this.zonePool(model.spec.zone);
    const ticket = { id: ++this.tickets, modelId: model.spec.id, device };
    const session: Session = {
      modelId: model.spec.id, device, pool, ticket, state: 'loading', retiring: null, mb,
      leases: 0, lastUsed: this.now(), since: this.now(), readyAt: null, runs: 0, keepAlive: undefined,
    };
    pool.sessions.add(session);
    model.sessions.push(session);
    return session;
  }

  private removeSession(model: ModelRecord, session: Session): void {
    this.clearKeepAlive(session);
    session.pool.sessions.delete(session);
    model.sessions = model.sessions.filter((s) => s !== session);
  }

  private beginUnload(session: Session): void {
    this.clearKeepAlive(session);
    session.state = 'unloading';
  }

  private clearKeepAlive(session: Session): void {
    if (session.keepAlive === undefined) return;
    this.timers.clearTimeout(session.keepAlive);
    session.keepAlive = undefined;
  }

  /**
   * A measure that leaves a GPU zone over budget means the session ate memory another zone counts
   * on: it retires to CPU (its runs in flight finish first) and returns once it fits. Host memory
   * has no other zone to protect, so a CPU overrun only warns.
   */
  private applyMeasure(model: ModelRecord, session: Session, mb: number): void {
    model.measured.set(session.device, mb);
    this.setEstimate(model, session.device, mb);
    session.mb = mb;
    if (session.pool.freeMB >= 0) return;
    const over = `${session.pool.label} over budget by ${formatMB(-session.pool.freeMB)}`;
    if (session.device === 'cpu') {
      this.logger?.warn({ modelId: model.spec.id, device: session.device, mb }, `${model.spec.id} measured ${formatMB(mb)}: ${over} until something leaves`);
      return;
    }
    this.activateStandby(model, session);
    const what = `measured ${formatMB(mb)}, ${over}`;
    this.demote(model, session.device, what, mb);
    this.retire(session, what);
  }

  private setEstimate(model: ModelRecord, device: DeviceId, mb: number): void {
    model.estimates.set(device, mb);
    this.store?.set(model.spec.id, device, mb);
  }

  private estimate(model: ModelRecord, device: DeviceId): number {
    const known = model.estimates.get(device);
    if (known !== undefined) return known;
    return device === 'cpu' ? (model.spec.cpuEstimatedMB ?? model.spec.estimatedMB) : model.spec.estimatedMB;
  }

  private waitForRoom(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (timedOut: boolean): void => {
        this.timers.clearTimeout(timer);
        this.roomWaiters.delete(wake);
        resolve(timedOut);
      };
      const timer = this.timers.setTimeout(() => wake(true), Math.max(0, deadline - this.now()));
      this.roomWaiters.add(wake);
    });
  }

  private wakeWaiters(): void {
    for (const waiter of [...this.roomWaiters]) waiter(false);
  }

  private record(modelId: string): ModelRecord {
    const model = this.records.get(modelId);
    if (!model) throw new Error(`unknown model "${modelId}": register it with the scheduler first`);
    return model;
  }

  private zonePool(zone: Zone): Pool {
    const pool = this.zones.get(zone);
    if (!pool) throw new Error(`no GPU zone ${zone}: the scheduler has no GPU`);
    return pool;
  }

  private createZones(gpu: GpuSpec): void {
    const sizes = zoneBudgets(gpu.totalMB, gpu.zones);
    for (const zone of ZONES) this.zones.set(zone, new Pool(gpu.id, zone, sizes[zone]));
    const sum = sizes.critical + sizes.high + sizes.flexible;
    if (sum > gpu.totalMB) {
      this.logger?.warn({ zones: sizes, totalMB: gpu.totalMB }, `VRAM zones add up to ${sum} MB, more than the ${gpu.totalMB} MB card: expect out-of-memory demotions`);
    }
  }

  private draft(kind: Placement['kind'], model: ModelRecord, device: DeviceId, mb: number, victims: Victim[], reason: string): Placement {
    return { ...this.draftDecision(kind, model, device, mb, victims, reason), kind, device, ticket: null };
  }

  private draftDecision(kind: DecisionKind, model: ModelRecord, device: DeviceId | null, mb: number, victims: Victim[], reason: string): Decision {
    return { kind, modelId: model.spec.id, device, zone: model.spec.zone, mb, victims, reason, at: this.now() };
  }

  private rejection(model: ModelRecord, reason: string): Decision {
    return this.draftDecision('reject', model, null, this.estimate(model, 'cpu'), [], reason);
  }
}
