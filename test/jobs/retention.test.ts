import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createHarness, invertTask, nextEvent, sampleImage, samplePng, startJobsApp } from './kit.js';

test('deletes inputs and results after RESULT_TTL and rows after JOB_HISTORY_TTL, on the sweeper clock', async () => {
  const h = await startJobsApp(createHarness([invertTask()], { RESULT_TTL: '1h', JOB_HISTORY_TTL: '1d' }, { sweepIntervalMs: 60_000 }));
  try {
    h.queue.start();
    const done = nextEvent(h.queue, 'state', (e) => e.to === 'completed');
    const { job } = await h.queue.submit({ owner: 'anonymous', operation: 'test-invert', image: await sampleImage(), options: {} });
    const waiting = await h.queue.submit({ owner: 'anonymous', operation: 'nope-not-run', image: await sampleImage(), options: {} }).catch(() => undefined);
    assert.equal(waiting, undefined);
    await done;
    const dir = `${h.dataDir}/jobs/${job.id}`;
    assert.ok(fs.existsSync(`${dir}/input`) && fs.existsSync(`${dir}/result`));

    await h.clock.advance(59 * 60_000);
    assert.ok(fs.existsSync(`${dir}/result`), 'kept within RESULT_TTL');
    const swept = nextEvent(h.queue, 'swept');
    await h.clock.advance(60_000);
    assert.deepEqual((await swept)[0], { filesRemoved: 1, rowsRemoved: 0, orphansRemoved: 0 });
    assert.equal(fs.existsSync(dir), false);

    const res = await fetch(`${h.url}/${job.id}/result`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as any).error.message, /RESULT_TTL/);
    const view = (await (await fetch(`${h.url}/${job.id}`)).json()) as any;
    assert.equal(view.result.result.expired, true);

    const gone = nextEvent(h.queue, 'swept');
    await h.clock.advance(24 * 3_600_000);
    assert.equal((await gone)[0].rowsRemoved, 1);
    assert.equal((await fetch(`${h.url}/${job.id}`)).status, 404);
    assert.deepEqual(h.queue.store.eventsAfter(job.id, 0), [], 'events went with the row');
  } finally {
    await h.close();
  }
});

test('keeps the input of a job still waiting, however old', async () => {
  const h = createHarness([invertTask()], { RESULT_TTL: '1h' });
  try {
    const { job } = await h.queue.submit({ owner: 'o', operation: 'test-invert', image: await sampleImage(), options: {} });
    await h.clock.advance(5 * 3_600_000);
    await h.queue.sweep();
    assert.ok(fs.existsSync(`${h.dataDir}/jobs/${job.id}/input`));
  } finally {
    await h.queue.close();
  }
});

test('removes a job directory left without a row by a crash during submit', async () => {
  const h = createHarness([invertTask()]);
  try {
    await h.queue.files.writeInput('orphan-1', await samplePng());
    assert.equal((await h.queue.sweep()).orphansRemoved, 0, 'a fresh directory may belong to a submit in progress');
    await h.clock.advance(2 * 3_600_000);
    assert.equal((await h.queue.sweep()).orphansRemoved, 1);
    assert.equal(fs.existsSync(`${h.dataDir}/jobs/orphan-1`), false);
  } finally {
    await h.queue.close();
  }
});
