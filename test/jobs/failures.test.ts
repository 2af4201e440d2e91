import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors.js';
import { isRetryable } from '../../src/jobs/retry.js';
import { createHarness, flakyTask, invalidTask, invertTask, nextEvent, sampleImage, startJobsApp, stepGate, untilStatus } from './kit.js';

test('retries MODEL_UNAVAILABLE with exponential backoff, then completes', async () => {
  const flaky = flakyTask(2);
  const h = createHarness([flaky], { JOB_MAX_ATTEMPTS: '3' });
  try {
    h.queue.start();
    const retries: number[] = [];
    h.queue.on('retrying', (e) => retries.push(e.retryAt - h.clock.now()));
    const firstRetry = nextEvent(h.queue, 'retrying');
    const { job } = await h.queue.submit({ owner: 'a', operation: 'test-flaky', image: await sampleImage(), options: {} });
    await firstRetry;
    assert.equal(h.queue.store.get(job.id)?.status, 'pending');
    assert.equal(h.queue.get(job.id, 'a').error?.code, 'MODEL_UNAVAILABLE');

    const secondRetry = nextEvent(h.queue, 'retrying');
    await h.clock.advance(999);
    assert.equal(flaky.runs(), 1, 'not retried before the backoff');
    await h.clock.advance(1);
    await secondRetry;
    const done = untilStatus(h.queue, job.id, 'completed');
    await h.clock.advance(2_000);
    await done;
    assert.deepEqual(retries, [1_000, 2_000]);
    const view = h.queue.get(job.id, 'a');
    assert.equal(view.attempts, 3);
    assert.equal(view.error, null);
    const result = await h.queue.result(job.id, 'a');
    assert.deepEqual(JSON.parse(result.body.toString()), { width: 8, runs: 3 });
  } finally {
    await h.queue.close();
  }
});

test('fails after JOB_MAX_ATTEMPTS transient failures', async () => {
  const flaky = flakyTask(10);
  const h = createHarness([flaky], { JOB_MAX_ATTEMPTS: '2' });
  try {
    h.queue.start();
    const { job } = await h.queue.submit({ owner: 'a', operation: 'test-flaky', image: await sampleImage(), options: {} });
    const failed = untilStatus(h.queue, job.id, 'failed');
    await nextEvent(h.queue, 'retrying');
    await h.clock.advance(1_000);
    await failed;
    assert.equal(flaky.runs(), 2);
    const view = h.queue.get(job.id, 'a');
    assert.equal(view.error?.code, 'MODEL_UNAVAILABLE');
    assert.equal(view.attempts, 2);
  } finally {
    await h.queue.close();
  }
});

test('fails at once, without retrying, on INVALID_OPTIONS', async () => {
  const invalid = invalidTask();
  const h = await startJobsApp(createHarness([invalid], { JOB_MAX_ATTEMPTS: '5' }));
  try {
    h.queue.start();
    const { job } = await h.queue.submit({ owner: 'anonymous', operation: 'test-invalid', image: await sampleImage(), options: {} });
    await untilStatus(h.queue, job.id, 'failed');
    await h.clock.advance(60_000);
    assert.equal(invalid.runs(), 1);
    const view = (await (await fetch(`${h.url}/${job.id}`)).json()) as any;
    assert.equal(view.result.status, 'failed');
    assert.deepEqual(view.result.error, { code: 'INVALID_OPTIONS', message: 'The test options can never be satisfied.' });
    const result = await fetch(`${h.url}/${job.id}/result`);
    assert.equal(result.status, 409);
  } finally {
    await h.close();
  }
});

test('classifies server-side conditions as retryable and request faults as permanent', () => {
  assert.equal(isRetryable(new AppError('MODEL_UNAVAILABLE', 'x')), true);
  assert.equal(isRetryable(new AppError('OVERLOADED', 'x')), true);
  assert.equal(isRetryable(new AppError('TIMEOUT', 'x')), true);
  assert.equal(isRetryable(new Error('worker exited with code 134')), true);
  assert.equal(isRetryable(new AppError('IMAGE_TOO_LARGE', 'x')), false);
  assert.equal(isRetryable(new AppError('INVALID_IMAGE', 'x')), false);
  assert.equal(isRetryable(new AppError('PROCESSING_ERROR', 'x', { details: { retryable: false } })), false);
});

test('puts jobs a crash left processing back to pending at start-up, failing those out of attempts', async () => {
  const first = createHarness([invertTask(stepGate())], { JOB_MAX_ATTEMPTS: '2' });
  const a = await first.queue.submit({ owner: 'o', operation: 'test-invert', image: await sampleImage(), options: {} });
  const b = await first.queue.submit({ owner: 'o', operation: 'test-invert', image: await sampleImage(), options: {} });
  // Simulate the crash: rows left mid-run, one on its last attempt.
  first.db.prepare(`UPDATE jobs SET status = 'processing', attempts = 1 WHERE id = ?`).run(a.job.id);
  first.db.prepare(`UPDATE jobs SET status = 'processing', attempts = 2 WHERE id = ?`).run(b.job.id);
  const second = createHarness([invertTask()], { JOB_MAX_ATTEMPTS: '2' }, { db: first.db, dataDir: first.dataDir });
  try {
    const done = untilStatus(second.queue, a.job.id, 'completed');
    second.queue.start();
    await done;
    assert.equal(second.queue.get(a.job.id, 'o').attempts, 2);
    assert.equal(second.queue.get(b.job.id, 'o').status, 'failed');
    assert.equal(second.queue.get(b.job.id, 'o').error?.code, 'PROCESSING_ERROR');
  } finally {
    await second.queue.close();
  }
});

test('close() waits for a running job up to its bound, then puts it back to pending', async () => {
  const gate = stepGate();
  const h = createHarness([invertTask(gate)], {}, { closeTimeoutMs: 5_000 });
  h.queue.start();
  const { job } = await h.queue.submit({ owner: 'o', operation: 'test-invert', image: await sampleImage(), options: {} });
  await gate.arrived(1);
  const closing = h.queue.close();
  assert.equal(h.queue.close(), closing, 'close() is idempotent');
  await h.clock.advance(5_000);
  // Past the bound the job is put back to pending and aborted; letting it reach its next step ends close().
  gate.release(1);
  await closing;
  const row = h.queue.store.get(job.id);
  assert.equal(row?.status, 'pending');
  assert.equal(row?.attempts, 0);
});
