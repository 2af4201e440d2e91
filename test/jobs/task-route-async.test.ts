import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { invertModel, invertTask, postJson, samplePng, startTestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { createHarness, untilStatus } from './kit.js';

function harness() {
  const task = invertTask();
  const runner = directRunner({ 'test-invert': invertModel() });
  return { task, runner, h: createHarness([task], {}, { runner }) };
}

test('a task route with Prefer: respond-async answers 202 with job links, and the job completes', async () => {
  const { task, runner, h } = harness();
  const app = await startTestApp({ tasks: [task], runner, deps: { jobs: h.queue } });
  h.queue.start();
  try {
    const png = await samplePng();
    const res = await postJson(`${app.url}/api/v1/test/invert`, { image: png.toString('base64'), options: { outputFormat: 'webp' } }, { prefer: 'respond-async' });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { result: { jobId: string; status: string } };
    assert.equal(body.result.status, 'pending');
    assert.equal(res.headers.get('location'), `/api/v1/jobs/${body.result.jobId}`);
    const completed = untilStatus(h.queue, body.result.jobId, 'completed');
    if (h.queue.get(body.result.jobId, 'anonymous').status !== 'completed') await completed;
    const result = await h.queue.result(body.result.jobId, 'anonymous');
    assert.equal(result.contentType, 'image/webp');
    const { data } = await sharp(result.body).raw().toBuffer({ resolveWithObject: true });
    assert.ok(Math.abs(data[0]! - (255 - 20)) <= 3, 'the job ran the task: the dark corner came back light');
  } finally {
    await app.close();
    await h.queue.close();
  }
});

test('?async=true refuses bad options at once, before a job exists', async () => {
  const { task, runner, h } = harness();
  const app = await startTestApp({ tasks: [task], runner, deps: { jobs: h.queue } });
  try {
    const res = await postJson(`${app.url}/api/v1/test/invert?async=true`, { image: (await samplePng()).toString('base64'), options: { outputFormat: 'gif' } });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'INVALID_OPTIONS');
    assert.equal(h.queue.list('anonymous', { limit: 10 }).jobs.length, 0);
  } finally {
    await app.close();
    await h.queue.close();
  }
});
