import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { invertModel, invertTask, postJson, samplePng, startTestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { validateImage } from '../../src/image/validate.js';
import { faceDetectTask } from '../../src/tasks/face-detect.js';
import { tinyFaceModels } from '../face/tiny-face-models.js';
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

test('?async=true refuses bad options and a malformed Idempotency-Key at once, before a job exists', async () => {
  const { task, runner, h } = harness();
  const app = await startTestApp({ tasks: [task], runner, deps: { jobs: h.queue } });
  try {
    const res = await postJson(`${app.url}/api/v1/test/invert?async=true`, { image: (await samplePng()).toString('base64'), options: { outputFormat: 'gif' } });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'INVALID_OPTIONS');
    assert.equal(h.queue.list('anonymous', { limit: 10 }).jobs.length, 0);
    const badKey = await postJson(`${app.url}/api/v1/test/invert?async=true`, { image: (await samplePng()).toString('base64') }, { 'idempotency-key': 'x'.repeat(300) });
    assert.equal(badKey.status, 400, 'the task route checks Idempotency-Key as the jobs route does');
    assert.match(((await badKey.json()) as { error: { message: string } }).error.message, /Idempotency-Key/);
  } finally {
    await app.close();
    await h.queue.close();
  }
});

test('face detection runs as a job and its JSON result is served with the faces found', async () => {
  const runner = directRunner(tinyFaceModels([{ box: [0.25, 0.2, 0.5, 0.6], score: 0.95 }]));
  const h = createHarness([faceDetectTask], {}, { runner });
  h.queue.start();
  try {
    const image = await validateImage(await samplePng(320, 240), { maxFileSize: 1e6, maxPixels: 1e6 });
    const { job } = await h.queue.submit({ owner: 'anonymous', operation: 'face-detect', image, options: { plugins: 'age,gender' } });
    const completed = untilStatus(h.queue, job.id, 'completed');
    if (h.queue.get(job.id, 'anonymous').status !== 'completed') await completed;
    const result = await h.queue.result(job.id, 'anonymous');
    assert.equal(result.kind, 'json');
    const data = JSON.parse(result.body.toString('utf8')) as { faces: { box: { x1: number }; age?: unknown; gender?: unknown }[] };
    assert.equal(data.faces.length, 1);
    assert.ok(Math.abs(data.faces[0]!.box.x1 - 80) < 2, 'the box is in original pixels');
    assert.ok(data.faces[0]!.age && data.faces[0]!.gender, 'the plugins asked for ran');
  } finally {
    await h.queue.close();
  }
});
