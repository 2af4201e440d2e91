import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { createHarness, invertTask, nextEvent, samplePng, startJobsApp, stepGate, untilStatus } from './kit.js';

async function submit(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { res, body: (await res.json()) as { success: boolean; result: any; error?: any } };
}

test('runs a job over HTTP from 202 to its inverted image, with progress recorded', async () => {
  const gate = stepGate();
  const h = await startJobsApp(createHarness([invertTask(gate)]));
  try {
    h.queue.start();
    const png = await samplePng(8, 6);
    const { res, body } = await submit(h.url, { operation: 'test-invert', image: png.toString('base64'), options: { steps: 2 } });
    assert.equal(res.status, 202);
    assert.equal(body.result.status, 'pending');
    const id = body.result.jobId as string;
    assert.equal(res.headers.get('location'), `/api/v1/jobs/${id}`);
    assert.deepEqual(body.result.links, { self: `/api/v1/jobs/${id}`, result: `/api/v1/jobs/${id}/result`, events: `/api/v1/jobs/${id}/events` });

    await gate.arrived(1);
    const running = (await (await fetch(`${h.url}/${id}`)).json()) as any;
    assert.equal(running.result.status, 'processing');
    assert.equal(running.result.attempts, 1);

    const early = await fetch(`${h.url}/${id}/result`);
    assert.equal(early.status, 409);

    const done = untilStatus(h.queue, id, 'completed');
    gate.release(1);
    gate.release(2);
    await done;

    const view = (await (await fetch(`${h.url}/${id}`)).json()) as any;
    assert.equal(view.result.status, 'completed');
    assert.equal(view.result.progress, 1);
    assert.equal(view.result.device, 'cpu');
    assert.equal(view.result.model, 'test-invert');
    assert.equal(view.result.result.contentType, 'image/png');

    const result = await fetch(`${h.url}/${id}/result`);
    assert.equal(result.status, 200);
    assert.equal(result.headers.get('content-type'), 'image/png');
    const pixels = await sharp(Buffer.from(await result.arrayBuffer())).raw().toBuffer();
    assert.deepEqual([...pixels.subarray(0, 3)], [255 - 200, 255 - 40, 255 - 10]);

    const asJson = (await (await fetch(`${h.url}/${id}/result`, { headers: { accept: 'application/json' } })).json()) as any;
    assert.equal(asJson.result.format, 'png');
    assert.ok(Buffer.from(asJson.result.image, 'base64').equals(Buffer.from(await (await fetch(`${h.url}/${id}/result`)).arrayBuffer())));

    const types = h.queue.store.eventsAfter(id, 0).map((e) => `${e.type}:${e.type === 'progress' ? e.data.progress : e.data.to ?? ''}`);
    assert.deepEqual(types, ['status:pending', 'status:processing', 'progress:0.5', 'progress:1', 'status:completed', 'done:']);
  } finally {
    await h.close();
  }
});

test('writes the input to DATA_DIR/jobs/<id>/input before answering 202', async () => {
  const h = await startJobsApp(createHarness([invertTask()]));
  try {
    const png = await samplePng();
    const { res, body } = await submit(h.url, { operation: 'test-invert', image: png.toString('base64') });
    assert.equal(res.status, 202);
    const { readFile } = await import('node:fs/promises');
    assert.ok((await readFile(`${h.dataDir}/jobs/${body.result.jobId}/input`)).equals(png));
    assert.equal(h.queue.store.get(body.result.jobId)?.status, 'pending');
  } finally {
    await h.close();
  }
});

test('answers 400 for an unknown operation and INVALID_OPTIONS for bad options, creating no job', async () => {
  const h = await startJobsApp(createHarness([invertTask()]));
  try {
    const image = (await samplePng()).toString('base64');
    const unknown = await submit(h.url, { operation: 'nope', image });
    assert.equal(unknown.res.status, 400);
    assert.equal(unknown.body.error.code, 'INVALID_REQUEST');
    const bad = await submit(h.url, { operation: 'test-invert', image, options: { steps: 99 } });
    assert.equal(bad.res.status, 400);
    assert.equal(bad.body.error.code, 'INVALID_OPTIONS');
    const notImage = await submit(h.url, { operation: 'test-invert', image: Buffer.from('hello').toString('base64') });
    assert.equal(notImage.res.status, 400);
    assert.equal(notImage.body.error.code, 'INVALID_IMAGE');
    const list = (await (await fetch(h.url)).json()) as any;
    assert.equal(list.result.jobs.length, 0);
  } finally {
    await h.close();
  }
});

test('accepts a multipart submission with operation as a form field', async () => {
  const h = await startJobsApp(createHarness([invertTask()]));
  try {
    h.queue.start();
    const form = new FormData();
    form.set('operation', 'test-invert');
    form.set('steps', '1');
    form.set('image', new Blob([new Uint8Array(await samplePng())], { type: 'image/png' }), 'a.png');
    const completed = nextEvent(h.queue, 'state', (e) => e.to === 'completed');
    const res = await fetch(h.url, { method: 'POST', body: form });
    assert.equal(res.status, 202);
    const [{ job }] = await completed;
    assert.deepEqual(JSON.parse(job.options), { steps: 1 });
  } finally {
    await h.close();
  }
});

test('lists jobs newest first, filtered by status, in pages', async () => {
  const h = await startJobsApp(createHarness([invertTask()]));
  try {
    const image = (await samplePng()).toString('base64');
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push((await submit(h.url, { operation: 'test-invert', image })).body.result.jobId);
      await h.clock.advance(1_000);
    }
    h.queue.cancel(ids[0] as string, 'anonymous');
    const first = (await (await fetch(`${h.url}?limit=1&status=pending`)).json()) as any;
    assert.deepEqual(first.result.jobs.map((j: any) => j.id), [ids[2]]);
    const second = (await (await fetch(`${h.url}?limit=1&status=pending&cursor=${first.result.nextCursor}`)).json()) as any;
    assert.deepEqual(second.result.jobs.map((j: any) => j.id), [ids[1]]);
    assert.equal(second.result.nextCursor, null);
    const bad = await fetch(`${h.url}?status=sleeping`);
    assert.equal(bad.status, 400);
  } finally {
    await h.close();
  }
});
