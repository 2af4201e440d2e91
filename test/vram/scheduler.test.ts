import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors.js';
import { settle } from '../../src/vram/manual-clock.js';
import { VramScheduler } from '../../src/vram/scheduler.js';
import type { EstimateStore } from '../../src/vram/types.js';
import { adaptive } from '../../src/vram/policy.js';
import { GPU, scenario } from './scenario.js';

const ZONES = { critical: 100, high: 1000, flexible: 500 };
const GPU_MB = 1600;

function memoryStore(): EstimateStore & { data: Map<string, number> } {
  const data = new Map<string, number>();
  return {
    data,
    get: (m, d) => data.get(`${m}@${d}`),
    set: (m, d, mb) => void data.set(`${m}@${d}`, mb),
  };
}

/** Two 600 MB High models: the 1000 MB zone holds one at a time; a blocked one waits up to 2 s. */
const twoHighModels = () => scenario({
  gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, roomWaitMs: 2_000,
  models: [
    { id: 'a', zone: 'high', estimatedMB: 600 },
    { id: 'b', zone: 'high', estimatedMB: 600 },
  ],
});

describe('VramScheduler placement', () => {
  test('loads a model into its zone on first request and reuses the session afterwards', async () => {
    const s = scenario({ gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, models: [{ id: 'isnet', zone: 'high', estimatedMB: 170 }] });
    assert.equal(await s.run('isnet'), GPU);
    assert.equal(await s.run('isnet'), GPU);
    assert.equal(s.device.count('load'), 1);
    assert.equal(s.pool('high').usedMB, 170);
    assert.deepEqual(s.kinds(), ['load isnet']);
    assert.equal(s.model('isnet').runs, 2);
  });

  test('evicts the idle model of the zone expected last, and unloads it; the next request reloads it', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000,
      models: [
        { id: 'a', zone: 'high', estimatedMB: 400 },
        { id: 'b', zone: 'high', estimatedMB: 400 },
        { id: 'c', zone: 'high', estimatedMB: 420 },
      ],
    });
    await s.run('a');
    await s.clock.advance(10);
    await s.run('b');
    await s.clock.advance(10);
    await s.run('a'); // a every 20 ms; b once, quiet since
    await s.clock.advance(10);
    assert.equal(await s.run('c'), GPU);
    const evict = s.scheduler.snapshot().decisions.find((d) => d.kind === 'evictThenLoad');
    assert.ok(evict);
    assert.deepEqual(evict.victims.map((v) => [v.modelId, v.to]), [['b', 'unload']]);
    assert.match(evict.reason, /evict b \(to unload\) from high: need 420 MB for c/);
    assert.ok(!s.device.isResident('b', GPU) && !s.device.isResident('b', 'cpu'));
    assert.equal(s.model('a').device, GPU, 'the model asked for more often stays');
    assert.ok(s.logs.some((l) => l.level === 'info' && l.obj.vram === 'evictThenLoad' && /need 420 MB/.test(l.msg)));
  });

  test('with victims moved to CPU (adaptive(true)), the evicted model keeps serving from a CPU session', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, policy: adaptive(true),
      models: [
        { id: 'a', zone: 'high', estimatedMB: 600 },
        { id: 'b', zone: 'high', estimatedMB: 600 },
      ],
    });
    await s.run('a');
    await s.clock.advance(10);
    assert.equal(await s.run('b'), GPU);
    assert.equal(s.model('a').device, 'cpu');
    assert.ok(s.device.isResident('a', 'cpu'));
    assert.ok(!s.device.isResident('a', GPU));
  });

  test('unloads a victim instead of moving it when host memory has no room for it', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 300,
      models: [
        { id: 'a', zone: 'high', estimatedMB: 600 },
        { id: 'b', zone: 'high', estimatedMB: 600 },
      ],
    });
    await s.run('a');
    await s.run('b');
    const evict = s.scheduler.snapshot().decisions.find((d) => d.kind === 'evictThenLoad');
    assert.deepEqual(evict?.victims.map((v) => v.to), ['unload']);
    assert.equal(s.model('a').state, 'unloaded');
    assert.equal(s.device.usedMB('cpu'), 0);
  });

  test('never evicts a Critical model: a Critical model that does not fit runs on CPU instead', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, keepAliveMs: 1000,
      models: [
        { id: 'face-detect', zone: 'critical', estimatedMB: 60 },
        { id: 'face-landmarks', zone: 'critical', estimatedMB: 60 },
      ],
    });
    assert.equal(await s.run('face-detect'), GPU);
    assert.equal(await s.run('face-landmarks'), 'cpu');
    await s.clock.advance(3_600_000);
    assert.equal(s.model('face-detect').device, GPU, 'pinned through an hour idle');
    assert.equal(s.model('face-landmarks').device, 'cpu', 'a Critical CPU session is pinned too');
    const fallback = s.scheduler.snapshot().decisions.find((d) => d.kind === 'cpuFallback');
    assert.match(fallback?.reason ?? '', /critical zone holds 100 MB \(60 MB pinned\)/);
    assert.equal(s.device.count('unload'), 0);
  });

  test('never evicts a model with runs in flight; an idle one goes instead even if used more recently', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000,
      models: [
        { id: 'busy', zone: 'high', estimatedMB: 400 },
        { id: 'idle', zone: 'high', estimatedMB: 400 },
        { id: 'new', zone: 'high', estimatedMB: 400 },
      ],
    });
    const busy = s.start('busy', 5_000);
    await s.clock.advance(1);
    await s.run('idle');
    await s.clock.advance(1);
    assert.equal(await s.run('new'), GPU);
    assert.equal(s.model('busy').device, GPU);
    assert.equal(s.model('idle').device, null, 'the idle one was unloaded');
    await s.clock.advance(5_000);
    assert.equal(await busy, GPU);
  });

  test('a Flexible model finding its zone busy falls back to CPU at once', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, roomWaitMs: 2_000,
      models: [
        { id: 'gfpgan', zone: 'flexible', estimatedMB: 340 },
        { id: 'esrgan', zone: 'flexible', estimatedMB: 270 },
      ],
    });
    const first = s.start('gfpgan', 10_000);
    await s.clock.advance(1);
    const t0 = s.clock.now();
    assert.equal(await s.run('esrgan'), 'cpu');
    assert.equal(s.clock.now(), t0, 'no simulated time passed waiting');
    await s.clock.advance(10_000);
    await first;
  });

  test('a High model blocked only by runs in flight waits for room, then loads on the GPU', async () => {
    const s = twoHighModels();
    const a = s.start('a', 500);
    await s.clock.advance(1);
    const b = s.start('b', 0);
    await s.clock.advance(499);
    assert.equal(await a, GPU);
    assert.equal(await b, GPU);
    assert.equal(s.model('a').device, null);
  });

  test('a High model still blocked when its wait runs out falls back to CPU', async () => {
    const s = twoHighModels();
    const a = s.start('a', 60_000);
    await s.clock.advance(1);
    const b = s.start('b', 0);
    await s.clock.advance(2_000);
    assert.equal(await b, 'cpu');
    assert.match(s.scheduler.snapshot().decisions[0]?.reason ?? '', /high zone busy \(a in use\)/);
    await s.clock.advance(60_000);
    await a;
  });

  test('N concurrent first requests share one load', async () => {
    const s = scenario({ gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, loadMs: 800, models: [{ id: 'isnet', zone: 'high', estimatedMB: 170 }] });
    const runs = Array.from({ length: 8 }, () => s.start('isnet', 10));
    await s.clock.advance(1_000);
    assert.deepEqual(await Promise.all(runs), Array(8).fill(GPU));
    assert.equal(s.device.count('load'), 1);
    assert.equal(s.logs.filter((l) => l.obj.vram === 'wait').length, 7);
    assert.equal(s.pool('high').usedMB, 170, 'reserved once');
  });

  test('keeps every zone and the host within budget under a mixed load', async () => {
    const models = [
      { id: 'c1', zone: 'critical' as const, estimatedMB: 40 },
      { id: 'c2', zone: 'critical' as const, estimatedMB: 50 },
      ...Array.from({ length: 6 }, (_, i) => ({ id: `h${i}`, zone: 'high' as const, estimatedMB: 150 + 60 * i })),
      ...Array.from({ length: 4 }, (_, i) => ({ id: `f${i}`, zone: 'flexible' as const, estimatedMB: 120 + 70 * i })),
    ];
    const s = scenario({ gpuMB: GPU_MB, zones: ZONES, cpuMB: 1500, loadMs: 30, roomWaitMs: 300, models });
    const pending: Promise<unknown>[] = [];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const m = models[Math.floor(random() * models.length)]!;
      pending.push(s.start(m.id, Math.floor(random() * 200)).catch((e: unknown) => e));
      await s.clock.advance(Math.floor(random() * 40));
      for (const p of s.scheduler.snapshot().pools) assert.ok(p.usedMB <= p.budgetMB, `${p.device} ${p.zone}: ${p.usedMB} > ${p.budgetMB}`);
      assert.ok(s.device.usedMB(GPU) <= GPU_MB);
    }
    await s.clock.advance(10_000);
    const outcomes = await Promise.all(pending);
    for (const p of s.scheduler.snapshot().pools) assert.ok(p.usedMB + p.releasingMB <= p.budgetMB);
    assert.equal(s.device.count('oom'), 0);
    assert.ok(outcomes.includes(GPU) && outcomes.includes('cpu'), 'both devices served');
  });
});

describe('VramScheduler memory estimates and out-of-memory', () => {
  test('corrects the estimate with the measured footprint and persists it per model and device', async () => {
    const store = memoryStore();
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, estimates: store,
      models: [{ id: 'isnet', zone: 'high', estimatedMB: 170, actualMB: 236 }],
    });
    await s.run('isnet');
    assert.equal(s.pool('high').usedMB, 236);
    assert.equal(store.data.get('isnet@cuda:0'), 236);
    assert.deepEqual(s.model('isnet').measuredMB, { 'cuda:0': 236 });
    const next = new VramScheduler({
      gpu: { id: 'cuda:0', totalMB: GPU_MB, zones: ZONES }, cpuBudgetMB: 2000, keepAliveMs: 1000,
      estimates: store, models: [{ id: 'isnet', zone: 'high', estimatedMB: 170 }],
    });
    assert.equal(next.estimateOf('isnet', 'cuda:0'), 236, 'a restart starts from the measurement');
    assert.equal(next.estimateOf('isnet', 'cpu'), 170);
  });

  test('an out-of-memory at load demotes the model to CPU, raises its estimate and keeps serving', async () => {
    const store = memoryStore();
    const s = scenario({ gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, estimates: store, loadMs: 50, models: [{ id: 'lama', zone: 'flexible', estimatedMB: 200 }] });
    s.device.failNextLoad('lama', GPU);
    const runs = [s.start('lama', 5), s.start('lama', 5), s.start('lama', 5)];
    await s.clock.advance(500);
    assert.deepEqual(await Promise.all(runs), ['cpu', 'cpu', 'cpu']);
    assert.equal(s.scheduler.estimateOf('lama', GPU), 300);
    assert.equal(store.data.get('lama@cuda:0'), 300);
    assert.equal(s.device.count('load', 'lama', 'cpu'), 1, 'the waiters share one CPU load');
    const demote = s.scheduler.snapshot().decisions.find((d) => d.kind === 'demote');
    assert.match(demote?.reason ?? '', /demote lama from cuda:0: out of memory while loading; estimate 200 MB → 300 MB/);
    assert.equal(s.pool('flexible').usedMB, 0, 'the failed reservation is returned');
  });

  test('a load that overflows the real card (estimate too low) ends on CPU with the estimate raised', async () => {
    const s = scenario({
      gpuMB: 500, zones: { critical: 0, high: 500, flexible: 0 }, cpuMB: 2000,
      models: [
        { id: 'a', zone: 'high', estimatedMB: 200, actualMB: 350 },
        { id: 'b', zone: 'high', estimatedMB: 200, actualMB: 350 },
      ],
    });
    const [a, b] = [s.start('a', 1_000), s.start('b', 1_000)];
    await s.clock.advance(2_000);
    const devices = [await a, await b].sort();
    assert.deepEqual(devices, ['cpu', GPU]);
    assert.equal(s.device.count('oom'), 1);
    assert.ok(s.device.usedMB(GPU) <= 500);
  });

  test('a session measured over its zone retires to CPU after its runs, instead of eating another zone', async () => {
    const s = scenario({
      gpuMB: 1000, zones: { critical: 0, high: 300, flexible: 700 }, cpuMB: 2000,
      models: [
        { id: 'small', zone: 'high', estimatedMB: 100 },
        { id: 'under', zone: 'high', estimatedMB: 100, actualMB: 250 },
      ],
    });
    await s.run('small');
    assert.equal(await s.run('under'), GPU, 'the request that loaded it still runs there');
    await settle();
    assert.ok(!s.device.isResident('under', GPU), 'the overrunning session is released');
    assert.equal(s.pool('high').usedMB, 100);
    assert.equal(s.scheduler.estimateOf('under', GPU), 250, 'the estimate is the measurement');
    assert.equal(await s.run('under'), 'cpu');
    const demote = s.scheduler.snapshot().decisions.find((d) => d.kind === 'demote');
    assert.match(demote?.reason ?? '', /demote under from cuda:0: measured 250 MB, high over budget by 50 MB; runs on cpu/);
    assert.equal(await s.run('small'), GPU, 'the model that fitted keeps its place');
  });

  test('an out-of-memory during a run retries on CPU and retires the GPU session', async () => {
    const s = scenario({ gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, models: [{ id: 'esrgan', zone: 'flexible', estimatedMB: 270 }] });
    await s.run('esrgan');
    s.device.failNextRun('esrgan', GPU);
    assert.equal(await s.run('esrgan'), 'cpu');
    await settle();
    assert.equal(s.scheduler.estimateOf('esrgan', GPU), 405);
    assert.ok(!s.device.isResident('esrgan', GPU));
    assert.equal(s.pool('flexible').usedMB + s.pool('flexible').releasingMB, 0);
    assert.equal(await s.run('esrgan'), 'cpu', 'not promoted straight back');
  });
});

describe('VramScheduler promotion and keep-alive', () => {
  test('a model colder than the zone keeps its CPU session while that is cheaper, then is let in (rent or buy)', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000,
      models: [
        { id: 'hot', zone: 'high', estimatedMB: 600 },
        { id: 'cold', zone: 'high', estimatedMB: 600 },
      ],
    });
    const request = async (id: string, gpuMs: number, cpuMs: number, gap = 5_000) => {
      const done = s.run(id, gpuMs, cpuMs);
      await s.clock.advance(gap);
      return done;
    };
    for (let i = 0; i < 5; i++) await request('hot', 10, 100);
    const long = s.run('hot', 3_000, 3_000);
    await s.clock.advance(1);
    const devices = [await request('cold', 10, 300)]; // hot is in flight: cold falls back to a CPU session
    await long;
    for (let i = 0; i < 8; i++) {
      devices.push(await request('cold', 10, 300, 1_000));
      for (let j = 0; j < 4; j++) await request('hot', 10, 100);
    }
    // cold comes every 21 s against hot's 5 s. Never timed on the GPU, each 300 ms CPU run counts
    // whole towards its GPU load, guessed at 600 MB × 3 ms = 1.8 s: six runs buy it in.
    assert.deepEqual(devices, ['cpu', 'cpu', 'cpu', 'cpu', 'cpu', 'cpu', GPU, GPU, GPU]);
    assert.ok(s.scheduler.snapshot().decisions.some((d) => /^promote cold to high: evict hot/.test(d.reason)));
    assert.equal(s.device.unloadsInFlight, 0);
  });

  test('two equally busy models sharing a zone move at most once per load\'s worth of CPU penalty', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, loadMs: 2_000,
      models: [
        { id: 'a', zone: 'high', estimatedMB: 600 },
        { id: 'b', zone: 'high', estimatedMB: 600 },
      ],
    });
    const devices: string[] = [];
    for (let i = 0; i < 40; i++) {
      const done = s.run(i % 2 ? 'b' : 'a', 10, 110);
      await s.clock.advance(5_000);
      devices.push(await done);
    }
    const gpuLoads = s.device.count('load', undefined, GPU);
    assert.ok(gpuLoads <= 2 + 40 / 2 / Math.ceil(2_000 / 100), `GPU loads ${gpuLoads}: a move needs 2 s of CPU penalty, 100 ms a run`);
    assert.ok(devices.filter((d) => d === GPU).length >= 20, 'one of the two is always on the GPU');
  });

  test('a promotion into free room needs the margin, then retires the CPU session', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, loadMs: 1_000, policy: adaptive(true),
      models: [
        { id: 'a', zone: 'high', estimatedMB: 500 },
        { id: 'b', zone: 'high', estimatedMB: 600 },
      ],
    });
    const request = async (id: string) => {
      const done = s.run(id);
      await s.clock.advance(2_000);
      return done;
    };
    await request('a');
    await request('b'); // a → cpu; zone now 600 used, 400 free < 500 + 64 margin
    assert.equal(s.model('a').device, 'cpu');
    for (let i = 0; i < 4; i++) await request('b');
    assert.equal(await request('a'), 'cpu', 'b comes every 2 s, a after 10: no room for a, and its CPU runs cost no more than a 1 s load');
    s.scheduler.requestUnload('b', 'unload requested');
    await s.clock.advance(2_000);
    assert.equal(s.model('b').state, 'unloaded');
    assert.equal(await request('a'), GPU, 'promoted into the free room');
    const promote = s.scheduler.snapshot().decisions.find((d) => d.kind === 'load' && d.device === GPU && d.modelId === 'a' && /promote/.test(d.reason));
    assert.match(promote?.reason ?? '', /promote a to high: 1000 MB free ≥ 500 MB \+ 64 MB margin/);
    assert.ok(!s.device.isResident('a', 'cpu'), 'the CPU session is retired');
    assert.equal(s.model('a').sessions.length, 1);
  });

  test('after an out-of-memory the model stays on CPU for the dwell, then returns', async () => {
    const s = scenario({ gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, dwellMs: 30_000, models: [{ id: 'esrgan', zone: 'flexible', estimatedMB: 270 }] });
    s.device.failNextLoad('esrgan', GPU);
    assert.equal(await s.run('esrgan'), 'cpu');
    await s.clock.advance(20_000);
    assert.equal(await s.run('esrgan'), 'cpu', 'within the dwell');
    await s.clock.advance(11_000);
    assert.equal(await s.run('esrgan'), GPU, 'the raised estimate fits: back on the GPU');
  });

  test('unloads an idle non-Critical model after MODEL_KEEP_ALIVE, counted from its last lease', async () => {
    const s = scenario({
      gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, keepAliveMs: 600_000,
      models: [
        { id: 'isnet', zone: 'high', estimatedMB: 170 },
        { id: 'detect', zone: 'critical', estimatedMB: 5 },
      ],
    });
    await s.run('isnet');
    await s.run('detect');
    await s.clock.advance(500_000);
    const long = s.start('isnet', 200_000); // in flight across the old deadline
    await s.clock.advance(200_000);
    await long;
    assert.equal(s.model('isnet').state, 'ready');
    await s.clock.advance(599_999);
    assert.equal(s.model('isnet').state, 'ready');
    await s.clock.advance(1);
    assert.equal(s.model('isnet').state, 'unloaded');
    assert.ok(!s.device.isResident('isnet', GPU));
    assert.equal(s.model('detect').state, 'ready', 'Critical stays');
    assert.match(s.scheduler.snapshot().decisions[0]?.reason ?? '', /unload isnet from cuda:0: idle for 600 s \(MODEL_KEEP_ALIVE\)/);
  });
});

describe('VramScheduler without a GPU', () => {
  const models = [
    { id: 'detect', zone: 'critical' as const, estimatedMB: 300 },
    { id: 'a', zone: 'high' as const, estimatedMB: 300 },
    { id: 'b', zone: 'high' as const, estimatedMB: 300 },
    { id: 'c', zone: 'flexible' as const, estimatedMB: 300 },
    { id: 'huge', zone: 'flexible' as const, estimatedMB: 5_000 },
  ];

  test('holds the host budget by unloading the least recently used idle non-Critical model', async () => {
    const s = scenario({ cpuMB: 1000, models });
    await s.run('detect');
    await s.clock.advance(10);
    await s.run('a');
    await s.clock.advance(10);
    await s.run('b');
    await s.clock.advance(10);
    assert.equal(await s.run('c'), 'cpu');
    assert.equal(s.model('a').state, 'unloaded');
    assert.equal(s.model('detect').state, 'ready');
    assert.equal(s.pool(null).usedMB, 900);
    assert.ok(s.device.usedMB('cpu') <= 1000);
    const d = s.scheduler.snapshot().decisions[0];
    assert.equal(d?.kind, 'evictThenLoad');
    assert.match(d?.reason ?? '', /unload a from host memory: need 300 MB for c/);
  });

  test('rejects a model that can never fit with MODEL_UNAVAILABLE naming the remedy', async () => {
    const s = scenario({ cpuMB: 1000, models });
    await assert.rejects(s.run('huge'), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'MODEL_UNAVAILABLE');
      assert.match(err.message, /needs 5000 MB on cpu, CPU_MODEL_MEMORY_MB is 1000.*raise it/);
      return true;
    });
    assert.equal(s.scheduler.snapshot().decisions[0]?.kind, 'reject');
  });

  test('answers OVERLOADED when host memory stays busy with runs in flight', async () => {
    const s = scenario({ cpuMB: 700, roomWaitMs: 1_000, models });
    const a = s.start('a', 5_000);
    const b = s.start('b', 5_000);
    await s.clock.advance(1);
    const c = s.run('c');
    c.catch(() => undefined);
    await s.clock.advance(1_000);
    await assert.rejects(c, (err: unknown) => err instanceof AppError && err.code === 'OVERLOADED');
    await s.clock.advance(5_000);
    assert.deepEqual([await a, await b], ['cpu', 'cpu']);
  });
});

describe('VramScheduler leases and snapshot', () => {
  test('release() is idempotent and a released model can be evicted', async () => {
    const s = scenario({ gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, models: [{ id: 'a', zone: 'high', estimatedMB: 100 }] });
    const lease = await s.executor.acquire('a');
    lease.release();
    lease.release();
    assert.equal(s.model('a').leases, 0);
    assert.equal(s.model('a').runs, 1);
  });

  test('keeps the last N decisions, most recent first', async () => {
    const s = scenario({
      cpuMB: 10_000, historySize: 3,
      models: ['a', 'b', 'c', 'd'].map((id) => ({ id, zone: 'high' as const, estimatedMB: 10 })),
    });
    for (const id of ['a', 'b', 'c', 'd']) await s.run(id);
    assert.deepEqual(s.scheduler.snapshot().decisions.map((d) => d.modelId), ['d', 'c', 'b']);
  });

  test('reports budgets, usage and per-model state', async () => {
    const s = scenario({ gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, models: [{ id: 'a', zone: 'flexible', estimatedMB: 100 }] });
    const lease = await s.executor.acquire('a');
    await settle();
    const snap = s.scheduler.snapshot();
    assert.deepEqual(snap.devices, [{ id: 'cuda:0', totalMB: 1600 }, { id: 'cpu', totalMB: 2000 }]);
    assert.deepEqual(snap.pools.map((p) => [p.zone, p.budgetMB, p.usedMB]), [['critical', 100, 0], ['high', 1000, 0], ['flexible', 500, 100], [null, 2000, 0]]);
    const a = snap.models[0];
    assert.equal(a?.state, 'ready');
    assert.equal(a?.device, GPU);
    assert.equal(a?.leases, 1);
    lease.release();
  });

  test('a request arriving while its model is being unloaded reloads it once the unload has finished', async () => {
    const s = scenario({ gpuMB: GPU_MB, zones: ZONES, cpuMB: 2000, keepAliveMs: 1_000, unloadMs: 100, loadMs: 10, models: [{ id: 'a', zone: 'high', estimatedMB: 100 }] });
    const first = s.start('a', 0);
    await s.clock.advance(10);
    await first;
    await s.clock.advance(1_000 + 10); // keep-alive fired; the unload is under way
    assert.equal(s.pool('high').releasingMB, 100);
    const again = s.start('a', 0);
    await s.clock.advance(200);
    assert.equal(await again, GPU);
    assert.deepEqual(s.device.events.map((e) => e.op), ['load', 'unload', 'load'], 'the driver never saw two sessions of a at once');
    assert.deepEqual([s.pool('high').usedMB, s.pool('high').releasingMB], [100, 0]);
  });

  test('refuses an unknown model with a message naming the fix', async () => {
    const s = scenario({ cpuMB: 100, models: [] });
    await assert.rejects(s.scheduler.acquire('nope'), /unknown model "nope": register it/);
  });
});
