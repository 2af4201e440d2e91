import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, invertTask, samplePng, startJobsApp, stepGate } from './kit.js';

interface SseFrame {
  id?: string;
  event?: string;
  data?: any;
  comment?: string;
}

/** Reads an SSE response frame by frame; `next()` resolves with the next frame or undefined at the end. */
function sseReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(): Promise<SseFrame | undefined> {
      for (;;) {
        const cut = buffer.indexOf('\n\n');
        if (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const frame: SseFrame = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) frame.comment = line.slice(1).trim();
            else if (line.startsWith('id: ')) frame.id = line.slice(4);
            else if (line.startsWith('event: ')) frame.event = line.slice(7);
            else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6));
          }
          if (frame.event || frame.comment) return frame;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    },
  };
}

async function rest(reader: ReturnType<typeof sseReader>): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  for (let f = await reader.next(); f; f = await reader.next()) frames.push(f);
  return frames;
}

const label = (f: SseFrame) => `${f.id}:${f.event}:${f.event === 'progress' ? f.data.progress : f.event === 'status' ? f.data.to : ''}`;

test('streams status, progress and done in order with ids, heartbeats while waiting, and ends with the job', async () => {
  const gate = stepGate();
  const h = await startJobsApp(createHarness([invertTask(gate)]), 10_000);
  try {
    const id = (await h.queue.submit({ owner: 'anonymous', operation: 'test-invert', image: { buffer: await samplePng(), format: 'png', width: 8, height: 6, hasAlpha: false }, options: { steps: 2 } })).job.id;
    const res = await fetch(`${h.url}/${id}/events`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = sseReader(res);
    assert.equal(label((await reader.next()) as SseFrame), '1:status:pending');

    await h.clock.advance(10_000);
    assert.equal((await reader.next())?.comment, 'heartbeat');

    h.queue.start();
    await gate.arrived(1);
    gate.release(1);
    gate.release(2);
    const frames = await rest(reader);
    assert.deepEqual(frames.map(label), ['2:status:processing', '3:progress:0.5', '4:progress:1', '5:status:completed', '6:done:']);
    assert.equal(frames.at(-1)?.data.result.contentType, 'image/png');
    assert.equal(frames.at(-1)?.data.links.result, `/api/v1/jobs/${id}/result`);
  } finally {
    await h.close();
  }
});

test('resumes after Last-Event-ID, and ends at once for a finished job', async () => {
  const gate = stepGate();
  const h = await startJobsApp(createHarness([invertTask(gate)]));
  try {
    h.queue.start();
    const id = (await h.queue.submit({ owner: 'anonymous', operation: 'test-invert', image: { buffer: await samplePng(), format: 'png', width: 8, height: 6, hasAlpha: false }, options: { steps: 2 } })).job.id;
    await gate.arrived(1);
    gate.release(1);
    await gate.arrived(2);

    const resumed = sseReader(await fetch(`${h.url}/${id}/events`, { headers: { 'last-event-id': '2' } }));
    assert.equal(label((await resumed.next()) as SseFrame), '3:progress:0.5');
    gate.release(2);
    assert.deepEqual((await rest(resumed)).map(label), ['4:progress:1', '5:status:completed', '6:done:']);

    const late = await rest(sseReader(await fetch(`${h.url}/${id}/events?lastEventId=4`)));
    assert.deepEqual(late.map(label), ['5:status:completed', '6:done:']);
    const finished = await rest(sseReader(await fetch(`${h.url}/${id}/events`, { headers: { 'last-event-id': '6' } })));
    assert.deepEqual(finished, []);
  } finally {
    await h.close();
  }
});

test('ends the stream with a status event when the job is cancelled', async () => {
  const h = await startJobsApp(createHarness([invertTask()]));
  try {
    const id = (await h.queue.submit({ owner: 'anonymous', operation: 'test-invert', image: { buffer: await samplePng(), format: 'png', width: 8, height: 6, hasAlpha: false }, options: {} })).job.id;
    const reader = sseReader(await fetch(`${h.url}/${id}/events`));
    await reader.next();
    await fetch(`${h.url}/${id}`, { method: 'DELETE' });
    assert.deepEqual((await rest(reader)).map(label), ['2:status:cancelled']);
  } finally {
    await h.close();
  }
});
