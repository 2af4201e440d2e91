import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, invertTask, nextEvent, samplePng, startJobsApp, stepGate, untilStatus } from './kit.js';

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { res, body: (await res.json()) as any };
}

test('the same Idempotency-Key from the same owner returns the same job; another owner gets a new one', async () => {
  const h = await startJobsApp(createHarness([invertTask()]));
  try {
    const image = (await samplePng()).toString('base64');
    const req = { operation: 'test-invert', image, options: { steps: 2 } };
    const first = await post(h.url, req, { 'idempotency-key': 'order-42', 'x-test-owner': 'alice' });
    const again = await post(h.url, req, { 'idempotency-key': 'order-42', 'x-test-owner': 'alice' });
    const other = await post(h.url, req, { 'idempotency-key': 'order-42', 'x-test-owner': 'bob' });
    assert.equal(first.res.status, 202);
    assert.equal(again.res.status, 200);
    assert.equal(again.body.result.jobId, first.body.result.jobId);
    assert.equal(other.res.status, 202);
    assert.notEqual(other.body.result.jobId, first.body.result.jobId);
    assert.equal(h.queue.store.countActive(), 2);

    const changed = await post(h.url, { ...req, options: { steps: 3 } }, { 'idempotency-key': 'order-42', 'x-test-owner': 'alice' });
    assert.equal(changed.res.status, 409);
    assert.equal(changed.body.error.code, 'CONFLICT');
  } finally {
    await h.close();
  }
});

test('concurrent submissions with one Idempotency-Key create one job', async () => {
  const h = createHarness([invertTask()]);
  try {
    const image = { buffer: await samplePng(), format: 'png' as const, width: 8, height: 6, hasAlpha: false };
    const input = { owner: 'o', operation: 'test-invert', image, options: {}, idempotencyKey: 'k' };
    const results = await Promise.all([h.queue.submit(input), h.queue.submit(input), h.queue.submit(input)]);
    assert.equal(new Set(results.map((r) => r.job.id)).size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal((await h.queue.files.listDirs()).length, 1, 'the losers left no input behind');
  } finally {
    await h.queue.close();
  }
});

test("another owner's job is a 404 on every route", async () => {
  const h = await startJobsApp(createHarness([invertTask()]));
  try {
    const { body } = await post(h.url, { operation: 'test-invert', image: (await samplePng()).toString('base64') }, { 'x-test-owner': 'alice' });
    const id = body.result.jobId as string;
    const bob = { 'x-test-owner': 'bob' };
    for (const path of [`/${id}`, `/${id}/result`, `/${id}/events`]) {
      const res = await fetch(`${h.url}${path}`, { headers: bob });
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as any).error.code, 'NOT_FOUND');
    }
    assert.equal((await fetch(`${h.url}/${id}`, { method: 'DELETE', headers: bob })).status, 404);
    const list = (await (await fetch(h.url, { headers: bob })).json()) as any;
    assert.deepEqual(list.result.jobs, []);
    assert.equal((await fetch(`${h.url}/${id}`, { headers: { 'x-test-owner': 'alice' } })).status, 200);
  } finally {
    await h.close();
  }
});

test('cancels a pending job, and stops a running one between steps without failing it', async () => {
  const gate = stepGate();
  const h = await startJobsApp(createHarness([invertTask(gate)]));
  try {
    h.queue.start();
    const image = (await samplePng()).toString('base64');
    const running = (await post(h.url, { operation: 'test-invert', image, options: { steps: 3 } })).body.result.jobId as string;
    const waiting = (await post(h.url, { operation: 'test-invert', image })).body.result.jobId as string;
    await gate.arrived(1);

    const cancelPending = await fetch(`${h.url}/${waiting}`, { method: 'DELETE' });
    assert.equal(cancelPending.status, 200);
    assert.equal(((await cancelPending.json()) as any).result.status, 'cancelled');

    const cancelRunning = await fetch(`${h.url}/${running}`, { method: 'DELETE' });
    assert.equal(((await cancelRunning.json()) as any).result.status, 'cancelled');
    const freed = nextEvent(h.queue, 'released', (e) => e.jobId === running);
    gate.release(1);
    await freed;
    assert.equal(h.queue.runningCount, 0);
    assert.equal(h.queue.store.get(running)?.status, 'cancelled');
    assert.equal(h.queue.store.get(running)?.error_code, null, 'cancellation is not a failure');
    assert.deepEqual(h.queue.store.eventsAfter(running, 0).filter((e) => e.type === 'progress'), [], 'no step after the cancel ran');

    const again = await fetch(`${h.url}/${running}`, { method: 'DELETE' });
    assert.equal(again.status, 200, 'cancelling twice is harmless');
  } finally {
    await h.close();
  }
});

test('refuses to cancel a finished job with 409', async () => {
  const h = await startJobsApp(createHarness([invertTask()]));
  try {
    h.queue.start();
    const done = nextEvent(h.queue, 'state', (e) => e.to === 'completed');
    const id = (await post(h.url, { operation: 'test-invert', image: (await samplePng()).toString('base64') })).body.result.jobId;
    await done;
    const res = await fetch(`${h.url}/${id}`, { method: 'DELETE' });
    assert.equal(res.status, 409);
  } finally {
    await h.close();
  }
});

test('answers 429 QUEUE_FULL with Retry-After beyond MAX_QUEUED_JOBS', async () => {
  const h = await startJobsApp(createHarness([invertTask()], { MAX_QUEUED_JOBS: '2' }));
  try {
    const image = (await samplePng()).toString('base64');
    assert.equal((await post(h.url, { operation: 'test-invert', image })).res.status, 202);
    assert.equal((await post(h.url, { operation: 'test-invert', image })).res.status, 202);
    const full = await post(h.url, { operation: 'test-invert', image });
    assert.equal(full.res.status, 429);
    assert.equal(full.body.error.code, 'QUEUE_FULL');
    assert.match(full.res.headers.get('retry-after') ?? '', /^\d+$/);

    h.queue.start();
    await untilStatus(h.queue, (await h.queue.list('anonymous', { limit: 1 })).jobs[0]!.id, 'completed');
    assert.equal((await post(h.url, { operation: 'test-invert', image })).res.status, 202, 'room again once jobs finish');
  } finally {
    await h.close();
  }
});
