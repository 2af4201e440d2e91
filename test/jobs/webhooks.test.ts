import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isNonPublicAddress, resolveWebhookTarget } from '../../src/jobs/webhook-target.js';
import { createHarness, flakyTask, invertTask, nextEvent, sampleImage, samplePng, startJobsApp } from './kit.js';

const SECRET = 'test-webhook-secret-0123456789';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 answering the given statuses in turn (then 200). */
async function receiver(statuses: number[] = []) {
  const received: Received[] = [];
  const waiters: Array<(r: Received) => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(r);
      res.statusCode = statuses.shift() ?? 200;
      res.end();
      waiters.shift()?.(r);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}/hooks/fotofun`,
    received,
    next: () => new Promise<Received>((resolve) => waiters.push(resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a receiver does: recompute the HMAC over `${timestamp}.${body}` and compare in constant time. */
function verify(r: Received, secret: string): boolean {
  const timestamp = String(r.headers['x-fotofun-timestamp']);
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${r.body}`).digest('hex')}`);
  const given = Buffer.from(String(r.headers['x-fotofun-signature']));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

test('POSTs a signed job.completed webhook that the receiver verifies, and records the delivery', async () => {
  const hook = await receiver();
  const h = createHarness([invertTask()], { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true' });
  try {
    h.queue.start();
    const delivered = nextEvent(h.queue, 'webhook', (e) => e.final);
    const { job } = await h.queue.submit({ owner: 'o', operation: 'test-invert', image: await sampleImage(), options: {}, webhookUrl: hook.url });
    await delivered;
    const [r] = hook.received;
    assert.ok(r);
    assert.equal(verify(r, SECRET), true);
    assert.equal(verify(r, `${SECRET}x`), false);
    assert.equal(r.headers['content-type'], 'application/json');
    const body = JSON.parse(r.body);
    assert.equal(body.event, 'job.completed');
    assert.equal(body.job.id, job.id);
    assert.equal(body.job.status, 'completed');
    assert.equal(body.job.links.result, `/api/v1/jobs/${job.id}/result`);
    assert.equal(String(body.timestamp), r.headers['x-fotofun-timestamp']);
    const deliveries = h.queue.store.deliveries(job.id);
    assert.deepEqual(deliveries.map((d) => [d.attempt, d.outcome, d.responseStatus]), [[1, 'delivered', 200]]);
    assert.equal(h.queue.store.get(job.id)?.webhook_status, 'delivered');
  } finally {
    await h.queue.close();
    await hook.close();
  }
});

test('retries a failing webhook with backoff and records every attempt', async () => {
  const hook = await receiver([500, 503]);
  const h = createHarness([flakyTask(0)], { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true', JOB_MAX_ATTEMPTS: '1' }, {
    webhook: { backoff: { baseMs: 1_000, maxMs: 10_000 }, maxAttempts: 5 },
  });
  try {
    h.queue.start();
    const first = nextEvent(h.queue, 'webhook');
    const { job } = await h.queue.submit({ owner: 'o', operation: 'test-flaky', image: await sampleImage(), options: {}, webhookUrl: hook.url });
    assert.equal((await first)[0].outcome, 'failed');
    const second = nextEvent(h.queue, 'webhook');
    await h.clock.advance(1_000);
    assert.equal((await second)[0].outcome, 'failed');
    const third = nextEvent(h.queue, 'webhook');
    await h.clock.advance(1_999);
    assert.equal(hook.received.length, 2, 'the third attempt waits for the doubled backoff');
    await h.clock.advance(1);
    assert.deepEqual((await third)[0], { jobId: job.id, attempt: 3, outcome: 'delivered', final: true });
    assert.deepEqual(h.queue.store.deliveries(job.id).map((d) => [d.attempt, d.outcome, d.responseStatus]), [
      [1, 'failed', 500], [2, 'failed', 503], [3, 'delivered', 200],
    ]);
    assert.ok(hook.received.every((r) => verify(r, SECRET)));
  } finally {
    await h.queue.close();
    await hook.close();
  }
});

test('connects to the checked address, not a second DNS answer', async () => {
  const hook = await receiver();
  const answers = [[{ address: '127.0.0.1', family: 4 }]];
  const h = createHarness([flakyTask(0)], { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true' }, {
    webhook: { lookup: async () => answers.shift() ?? [{ address: '10.9.9.9', family: 4 }] },
  });
  try {
    h.queue.start();
    answers.push([{ address: '127.0.0.1', family: 4 }]);
    const delivered = nextEvent(h.queue, 'webhook');
    await h.queue.submit({ owner: 'o', operation: 'test-flaky', image: await sampleImage(), options: {}, webhookUrl: `http://hooks.example.test:${hook.port}/x` });
    assert.equal((await delivered)[0].outcome, 'delivered');
    assert.equal(hook.received[0]?.headers.host, `hooks.example.test:${hook.port}`);
  } finally {
    await h.queue.close();
    await hook.close();
  }
});

test('refuses loopback, private, link-local and non-http webhook targets', async () => {
  const opts = { allowPrivate: false };
  for (const url of ['http://127.0.0.1/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:8080/x', 'https://192.168.1.10/x', 'http://[::ffff:127.0.0.1]/x', 'http://localhost:9/x']) {
    await assert.rejects(resolveWebhookTarget(url, opts), (err: any) => err.code === 'INVALID_REQUEST' && /WEBHOOK_ALLOW_PRIVATE/.test(err.message), url);
  }
  await assert.rejects(resolveWebhookTarget('ftp://example.com/x', opts), /http or https/);
  await assert.rejects(resolveWebhookTarget('not a url', opts), /not a valid URL/);
  const mixed = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }];
  await assert.rejects(resolveWebhookTarget('https://rebind.example/x', { allowPrivate: false, lookup: mixed }), /10\.0\.0\.7/);
  const target = await resolveWebhookTarget('https://hooks.example/x', { allowPrivate: false, lookup: async () => [{ address: '93.184.216.34', family: 4 }] });
  assert.equal(target.address, '93.184.216.34');
  assert.equal((await resolveWebhookTarget('http://127.0.0.1/x', { allowPrivate: true })).address, '127.0.0.1');
  assert.equal(isNonPublicAddress('fe80::1'), true);
  assert.equal(isNonPublicAddress('fd12::1'), true);
  assert.equal(isNonPublicAddress('2606:4700::1111'), false);
});

test('answers 400 to a submission whose webhook resolves to a private address, and creates no job', async () => {
  const h = await startJobsApp(createHarness([invertTask()], { WEBHOOK_SECRET: SECRET }));
  try {
    const image = (await samplePng()).toString('base64');
    const res = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'test-invert', image, webhookUrl: 'http://localhost:8080/hook' }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as any).error.message, /loopback, private or link-local/);
    assert.equal(h.queue.store.countActive(), 0);
  } finally {
    await h.close();
  }
});

test('refuses at delivery time a host that re-resolved to a private address', async () => {
  const answers = [[{ address: '93.184.216.34', family: 4 }]];
  const h = createHarness([flakyTask(0)], { WEBHOOK_SECRET: SECRET }, {
    webhook: { lookup: async () => answers.shift() ?? [{ address: '169.254.169.254', family: 4 }] },
  });
  try {
    h.queue.start();
    const attempt = nextEvent(h.queue, 'webhook');
    const { job } = await h.queue.submit({ owner: 'o', operation: 'test-flaky', image: await sampleImage(), options: {}, webhookUrl: 'https://hooks.example/x' });
    assert.deepEqual((await attempt)[0], { jobId: job.id, attempt: 1, outcome: 'refused', final: true });
    assert.match(h.queue.store.deliveries(job.id)[0]?.error ?? '', /169\.254\.169\.254/);
  } finally {
    await h.queue.close();
  }
});

test('refuses a webhookUrl when WEBHOOK_SECRET is not set, naming the variable', async () => {
  const h = createHarness([invertTask()]);
  try {
    await assert.rejects(
      h.queue.submit({ owner: 'o', operation: 'test-invert', image: await sampleImage(), options: {}, webhookUrl: 'https://hooks.example/x' }),
      /WEBHOOK_SECRET/,
    );
  } finally {
    await h.queue.close();
  }
});
