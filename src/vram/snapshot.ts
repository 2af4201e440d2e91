import { activeSession, type ModelRecord, type Pool, type Session } from './state.js';
import type { Decision, DeviceId, ModelSnapshot, PoolSnapshot, SessionSnapshot, VramSnapshot } from './types.js';

function sessionSnapshot(s: Session): SessionSnapshot {
  return {
    device: s.device, state: s.state, retiring: s.retiring !== null, mb: s.mb,
    leases: s.leases, lastUsed: s.lastUsed, runs: s.runs,
  };
}

function modelSnapshot(m: ModelRecord): ModelSnapshot {
  const active = activeSession(m);
  const lastUsed = m.sessions.length ? Math.max(...m.sessions.map((s) => s.lastUsed)) : null;
  return {
    id: m.spec.id,
    zone: m.spec.zone,
    state: active?.state ?? 'unloaded',
    device: active?.device ?? null,
    estimatedMB: Object.fromEntries(m.estimates) as ModelSnapshot['estimatedMB'],
    measuredMB: Object.fromEntries(m.measured) as ModelSnapshot['measuredMB'],
    leases: m.sessions.reduce((n, s) => n + s.leases, 0),
    lastUsed,
    runs: m.sessions.reduce((n, s) => n + s.runs, 0),
    sessions: m.sessions.map(sessionSnapshot),
  };
}

function poolSnapshot(p: Pool): PoolSnapshot {
  return {
    device: p.device, zone: p.zone, budgetMB: p.budgetMB, usedMB: p.usedMB,
    releasingMB: p.releasingMB, models: [...p.sessions].map((s) => s.modelId),
  };
}

/** A plain, JSON-ready copy of the scheduler's state for GET /api/v1/vram and tests. */
export function buildSnapshot(
  devices: { id: DeviceId; totalMB: number }[],
  pools: Pool[],
  models: ModelRecord[],
  decisions: Decision[],
): VramSnapshot {
  return {
    devices,
    pools: pools.map(poolSnapshot),
    models: models.map(modelSnapshot),
    decisions: decisions.map((d) => ({ ...d, victims: d.victims.map((v) => ({ ...v })) })),
  };
}
