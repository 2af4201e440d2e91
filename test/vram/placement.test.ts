import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fitsInZone, isEvictable, lruOrder, makeRoom, pickVictims, promotionCheck, promotionMargin, victimDestinations,
} from '../../src/vram/placement.js';
import { Pool, type ModelRecord, type Session } from '../../src/vram/state.js';
import type { DeviceId, Zone } from '../../src/vram/types.js';

const models = new Map<string, ModelRecord>();

function session(pool: Pool, id: string, mb: number, opts: Partial<Session> & { zone?: Zone } = {}): Session {
  const { zone = 'high', ...rest } = opts;
  const device: DeviceId = pool.device;
  const s: Session = {
    modelId: id, device, pool, ticket: { id: 0, modelId: id, device }, state: 'ready', retiring: null,
    mb, leases: 0, lastUsed: 0, since: 0, readyAt: 0, runs: 0, keepAlive: undefined, ...rest,
  };
  pool.sessions.add(s);
  models.set(id, {
    spec: { id, zone, estimatedMB: mb }, active: device, sessions: [s],
    estimates: new Map(), measured: new Map(), demotedAt: null,
  });
  return s;
}
const record = (id: string): ModelRecord => models.get(id)!;

describe('placement helpers', () => {
  test('fitsInZone counts memory being released as still taken', () => {
    const pool = new Pool('cuda:0', 'high', 1000);
    session(pool, 'a', 500);
    session(pool, 'b', 300, { state: 'unloading' });
    assert.equal(fitsInZone(pool, 200), true);
    assert.equal(fitsInZone(pool, 201), false);
  });

  test('isEvictable refuses sessions in flight, loading, retiring, Critical or mid-move', () => {
    const pool = new Pool('cuda:0', 'high', 1000);
    assert.equal(isEvictable(session(pool, 'idle', 10), record('idle')), true);
    assert.equal(isEvictable(session(pool, 'busy', 10, { leases: 1 }), record('busy')), false);
    assert.equal(isEvictable(session(pool, 'loading', 10, { state: 'loading' }), record('loading')), false);
    assert.equal(isEvictable(session(pool, 'retiring', 10, { retiring: 'oom' }), record('retiring')), false);
    assert.equal(isEvictable(session(pool, 'pinned', 10, { zone: 'critical' }), record('pinned')), false);
    const moving = session(pool, 'moving', 10);
    record('moving').sessions.push({ ...moving, device: 'cpu', state: 'unloading' });
    assert.equal(isEvictable(moving, record('moving')), false);
  });

  test('lruOrder puts the least recently used first and breaks ties by lower priority', () => {
    const pool = new Pool('cuda:0', 'high', 1000);
    const a = session(pool, 'a', 1, { lastUsed: 30 });
    const b = session(pool, 'b', 1, { lastUsed: 10 });
    const c = session(pool, 'c', 1, { lastUsed: 30 });
    const prio: Record<string, number> = { a: 50, b: 0, c: 10 };
    assert.deepEqual(lruOrder([a, b, c], (id) => prio[id] ?? 0).map((s) => s.modelId), ['b', 'c', 'a']);
  });

  test('pickVictims takes the shortest LRU prefix that makes room, or none when it cannot', () => {
    const pool = new Pool('cuda:0', 'high', 1000);
    const list = [session(pool, 'x', 100), session(pool, 'y', 200), session(pool, 'z', 300)];
    assert.deepEqual(pickVictims(50, 250, list)?.map((s) => s.modelId), ['x', 'y']);
    assert.deepEqual(pickVictims(300, 250, list), []);
    assert.equal(pickVictims(0, 700, list), null);
  });

  test('makeRoom tells fits, evict, blocked (runs in flight) and never (pinned or too big) apart', () => {
    const pool = new Pool('cuda:0', 'high', 1000);
    session(pool, 'pinned', 200, { zone: 'critical' });
    session(pool, 'busy', 300, { leases: 2 });
    session(pool, 'idle', 300, { lastUsed: 5 });
    assert.deepEqual(makeRoom(pool, 200, record), { kind: 'fits' });
    const evict = makeRoom(pool, 400, record);
    assert.equal(evict.kind, 'evict');
    assert.deepEqual(evict.kind === 'evict' && evict.victims.map((s) => s.modelId), ['idle']);
    assert.deepEqual(makeRoom(pool, 700, record), { kind: 'blocked', busy: ['busy'] });
    assert.deepEqual(makeRoom(pool, 900, record), { kind: 'never', pinnedMB: 200 });
  });

  test('victimDestinations moves GPU victims to CPU while host memory lasts, then unloads', () => {
    const gpu = new Pool('cuda:0', 'high', 1000);
    const cpu = new Pool('cpu', null, 500);
    session(cpu, 'resident', 100);
    const victims = [session(gpu, 'a', 300), session(gpu, 'b', 300), session(gpu, 'c', 50)];
    assert.deepEqual(victimDestinations(victims, cpu, (id) => (id === 'c' ? 80 : 300)).map((v) => [v.modelId, v.to]), [
      ['a', 'cpu'], ['b', 'unload'], ['c', 'cpu'],
    ]);
    assert.deepEqual(victimDestinations([session(cpu, 'd', 10)], cpu, () => 0).map((v) => v.to), ['unload']);
  });

  test('promotionCheck needs the dwell to have passed and free room beyond the margin', () => {
    const gpu = new Pool('cuda:0', 'high', 1000);
    const cpu = new Pool('cpu', null, 5000);
    session(cpu, 'm', 400);
    const m = record('m');
    m.demotedAt = 1_000;
    assert.equal(promotionMargin(400), 64);
    assert.equal(promotionMargin(2000), 200);
    assert.match(promotionCheck(m, gpu, 400, 20_000, 30_000).reason, /demoted 19 s ago/);
    session(gpu, 'other', 537);
    assert.equal(promotionCheck(m, gpu, 400, 40_000, 30_000).ok, false, '463 MB free < 400 + 64');
    gpu.sessions.clear();
    session(gpu, 'other', 536);
    const ok = promotionCheck(m, gpu, 400, 40_000, 30_000);
    assert.equal(ok.ok, true);
    assert.match(ok.reason, /promote m to high: 464 MB free ≥ 400 MB \+ 64 MB margin/);
  });
});
