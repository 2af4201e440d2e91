import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerLanes } from '../../src/models/worker/lanes.js';
import { workerEntry } from '../../src/models/worker/spawn.js';

type Job = { ms: number; echo: string; fail?: boolean };
const lanes = (size: number, idleMs = 10_000) => new WorkerLanes<Job, string, number>(workerEntry('lanes-worker', import.meta.url), { label: 'test', size, idleMs });

test('worker lanes: results and progress come back; jobs beyond the lane count wait their turn', async () => {
  const l = lanes(1);
  const progress: number[] = [];
  const order: string[] = [];
  const [a, b] = await Promise.all([
    l.run({ ms: 50, echo: 'a' }, { onProgress: (p) => progress.push(p) }).then((r) => (order.push(r), r)),
    l.run({ ms: 1, echo: 'b' }).then((r) => (order.push(r), r)),
  ]);
  assert.deepEqual([a, b, order], ['a', 'b', ['a', 'b']], 'one lane: b ran after a although it was shorter');
  assert.deepEqual(progress, [0, 1]);
  await l.close();
});

test('worker lanes: an abort terminates a busy worker at once; an error is the worker’s message; the lane serves again', async () => {
  const l = lanes(1);
  const controller = new AbortController();
  const started = Date.now();
  const running = l.run({ ms: 10_000, echo: 'long' }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('client went away')), 100);
  await assert.rejects(running, /client went away/);
  assert.ok(Date.now() - started < 5_000, 'did not wait for the busy loop');
  await assert.rejects(l.run({ ms: 0, echo: 'x', fail: true }), /failed on purpose: x/);
  assert.equal(await l.run({ ms: 1, echo: 'again' }), 'again');
  const queued = new AbortController();
  const busy = l.run({ ms: 200, echo: 'busy' });
  const waiting = l.run({ ms: 1, echo: 'never' }, { signal: queued.signal });
  queued.abort(new Error('gave up waiting'));
  await assert.rejects(waiting, /gave up waiting/);
  assert.equal(await busy, 'busy');
  await l.close();
});
