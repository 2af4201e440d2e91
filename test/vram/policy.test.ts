import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { replay, summarize } from '../../bench/scheduler-sim.js';
import type { TraceInput } from '../../bench/scheduler-trace.js';
import { TraceSchema } from '../../bench/scheduler-trace.js';
import { adaptivePolicy, furthestNextUsePolicy, lruPolicy } from '../../src/vram/policy.js';
import { Pool, type Session } from '../../src/vram/state.js';
import { Traffic } from '../../src/vram/traffic.js';

const pool = new Pool('cuda:0', 'high', 1000);
function session(modelId: string, mb: number, lastUsed: number): Session {
  return {
    modelId, device: 'cuda:0', pool, ticket: { id: 0, modelId, device: 'cuda:0' }, state: 'ready', retiring: null,
    mb, leases: 0, lastUsed, since: 0, readyAt: 0, runs: 1, keepAlive: undefined,
  };
}
const ids = (sessions: Session[]) => sessions.map((s) => s.modelId);

describe('Traffic', () => {
  test('the expected wait is the mean gap, or the quiet so far when that is longer', () => {
    const t = new Traffic();
    for (const at of [0, 1_000, 2_000, 3_000]) t.requested('hot', at);
    assert.equal(t.expectedWait('hot', 3_000), 1_000);
    assert.equal(t.expectedWait('hot', 3_500), 1_000, 'memoryless: half a gap later the wait ahead is still one gap');
    assert.equal(t.expectedWait('hot', 60_000), 57_000, 'gone quiet: its rate has fallen');
    t.requested('late', 30_000);
    assert.equal(t.expectedWait('late', 30_000), 30_000, 'first asked for 30 s into the traffic: a gap of at least that');
    assert.equal(t.expectedWait('never', 30_000), Infinity);
  });

  test('CPU runs add up as penalty beyond the GPU run, and leaving the GPU starts the count again', () => {
    const t = new Traffic();
    t.requested('m', 0);
    t.ran('m', 'cuda:0', 50);
    t.ran('m', 'cpu', 500);
    t.ran('m', 'cpu', 450);
    assert.equal(t.get('m')?.cpuPenaltyMs, 850);
    t.leftGpu('m');
    assert.equal(t.get('m')?.cpuPenaltyMs, 0);
    t.loaded('m', 'cuda:0', 700);
    assert.equal(t.get('m')?.gpuLoadMs, 700);
  });
});

describe('placement policies', () => {
  const candidates = [session('a', 100, 30), session('b', 400, 10), session('c', 100, 20)];

  test('LRU orders by last use; Belady by the oracle\'s next use, furthest first', () => {
    assert.deepEqual(ids(lruPolicy(new Traffic(), () => 0).victimOrder(candidates, 100)), ['b', 'c', 'a']);
    const next: Record<string, number> = { a: 500, b: 200, c: Infinity };
    const belady = furthestNextUsePolicy((id) => next[id]!)(new Traffic(), () => 0);
    assert.deepEqual(ids(belady.victimOrder(candidates, 100)), ['c', 'a', 'b']);
    assert.equal(belady.mayDisplace('x', candidates, 100, { onCpu: false }), true);
  });

  test('adaptive ranks victims by expected wait × size, so a big cold model leaves before small warm ones', () => {
    const t = new Traffic();
    for (const at of [0, 10, 20, 30]) t.requested('a', at); // every 10 ms
    for (const at of [0, 5]) t.requested('b', at); // quiet since 5
    for (const at of [0, 20]) t.requested('c', at);
    const policy = adaptivePolicy(t, () => 100);
    // waits at 30: a 10, b 25, c 20 → × MB: a 1000, b 10000, c 2000
    assert.deepEqual(ids(policy.victimOrder(candidates, 30)), ['b', 'c', 'a']);
  });

  test('adaptive lets a model displace only colder ones, unless serving it on CPU costs more than a load', () => {
    const t = new Traffic();
    for (const at of [0, 1_000, 2_000]) t.requested('hot', at);
    for (const at of [0, 2_000]) t.requested('cold', at); // gap 2 s against hot's 1 s
    const policy = adaptivePolicy(t, () => 200); // a load guessed at 600 ms
    const hot = [session('hot', 200, 2_000)];
    assert.equal(policy.mayDisplace('cold', hot, 2_000, { onCpu: true }), true, 'never timed anywhere: the GPU is the safe guess');
    t.ran('cold', 'cpu', 100);
    assert.equal(policy.mayDisplace('cold', hot, 2_000, { onCpu: true }), false, 'a 100 ms CPU run is cheaper than a 600 ms load');
    assert.equal(policy.mayDisplace('cold', hot, 2_000, { onCpu: false }), true, 'without a CPU session, its load (guessed 600 ms) tips it');
    for (let i = 0; i < 5; i++) t.ran('cold', 'cpu', 100);
    assert.equal(policy.mayDisplace('cold', hot, 2_000, { onCpu: true }), true, 'six CPU runs have cost one load: rent or buy');
    assert.equal(policy.mayDisplace('hot', [session('cold', 200, 2_000)], 2_000, { onCpu: true }), true, 'hotter than its victim');
  });
});

/** A B C repeated three times, 10 s apart, into a zone that holds two of them. */
const cyclic: TraceInput = {
  name: 'cyclic',
  device: { gpuTotalMB: 1000, zones: { critical: 0, high: 1000, flexible: 0 }, cpuBudgetMB: 4096 },
  models: ['a', 'b', 'c'].map((id) => ({ id, zone: 'high' as const, estimatedMB: 500 })),
  requests: Array.from({ length: 9 }, (_, i) => ({ t: i * 10_000, model: 'abc'[i % 3]!, durationMs: 10 })),
};

test('the policy comparison on a cyclic trace: Belady finds the 3 hits the optimum allows, LRU none', async () => {
  const rows = [];
  for (const policy of ['belady', 'lru', 'ours'] as const) {
    const trace = TraceSchema.parse(cyclic);
    rows.push(summarize(trace, policy, await replay(trace, policy)));
  }
  const [belady, lru, ours] = rows;
  // Belady, by hand: a b (cold), c evicts b (next use at 8 vs 7), a hits, b evicts a, c hits, a evicts c, b hits, c.
  assert.equal(belady!.gpuHits, 3);
  assert.equal(lru!.gpuHits, 0, 'a cycle one longer than the zone defeats LRU');
  assert.equal(belady!.loadsGpu, 6);
  for (const r of rows) assert.equal(r.unloadsInFlight, 0);
  assert.equal(ours!.requests, 9);
});
