import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../../src/errors.js';
import { ConcurrencyGate } from '../../src/middleware/overload.js';
import { pngDeclaring } from '../image/samples.js';
import { invertTask, postJson, samplePng, startTestApp, type TestApp } from '../kit/app.js';
import { Router } from 'express';

interface Envelope {
  success: boolean;
  result?: { image: string; format: string; metadata: Record<string, unknown> };
  error?: { code: string; message: string; details?: unknown };
  processingTime: number;
}

async function envelope(res: Response): Promise<Envelope> {
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return (await res.json()) as Envelope;
}

describe('the JSON task contract', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('answers success with the processed image, its format and processingTime', async () => {
    const png = await samplePng();
    const res = await postJson(`${app.url}/api/v1/test/invert`, { image: png.toString('base64'), format: 'png' });
    assert.equal(res.status, 200);
    const body = await envelope(res);
    assert.equal(body.success, true);
    assert.equal(body.result?.format, 'png');
    assert.equal(typeof body.processingTime, 'number');
    const { data, info } = await sharp(Buffer.from(body.result!.image, 'base64')).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 32);
    assert.equal(data[0], 255 - 20, 'the dark corner comes back light');
  });

  test('answers 400 INVALID_JSON for a malformed body', async () => {
    const res = await fetch(`${app.url}/api/v1/test/invert`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"image": ' });
    assert.equal(res.status, 400);
    assert.equal((await envelope(res)).error?.code, 'INVALID_JSON');
  });

  test('answers 400 INVALID_REQUEST when no image is sent', async () => {
    const res = await postJson(`${app.url}/api/v1/test/invert`, { options: {} });
    assert.equal(res.status, 400);
    assert.equal((await envelope(res)).error?.code, 'INVALID_REQUEST');
  });

  test('answers 400 INVALID_OPTIONS naming the bad option', async () => {
    const res = await postJson(`${app.url}/api/v1/test/invert`, { image: (await samplePng()).toString('base64'), options: { outputFormat: 'gif' } });
    assert.equal(res.status, 400);
    const body = await envelope(res);
    assert.equal(body.error?.code, 'INVALID_OPTIONS');
    assert.match(body.error!.message, /outputFormat/);
  });

  test('answers 400 INVALID_IMAGE for bytes that are not base64', async () => {
    const res = await postJson(`${app.url}/api/v1/test/invert`, { image: '%%%not-base64%%%' });
    assert.equal(res.status, 400);
    assert.equal((await envelope(res)).error?.code, 'INVALID_IMAGE');
  });

  test('answers 415 UNSUPPORTED_FORMAT for a GIF', async () => {
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).gif().toBuffer();
    const res = await postJson(`${app.url}/api/v1/test/invert`, { image: gif.toString('base64') });
    assert.equal(res.status, 415);
    assert.equal((await envelope(res)).error?.code, 'UNSUPPORTED_FORMAT');
  });

  test('answers 413 IMAGE_TOO_LARGE naming the limit for a PNG whose header declares 30000×30000, before decoding', async () => {
    const bomb = pngDeclaring(30000, 30000);
    const res = await postJson(`${app.url}/api/v1/test/invert`, { image: bomb.toString('base64') });
    assert.equal(res.status, 413);
    const body = await envelope(res);
    assert.equal(body.error?.code, 'IMAGE_TOO_LARGE');
    assert.match(body.error!.message, /40,?000,?000|40 ?MP|limit/i);
  });

  test('answers 404 NOT_FOUND in the envelope for an unknown route', async () => {
    const res = await fetch(`${app.url}/api/v1/nope`);
    assert.equal(res.status, 404);
    const body = await envelope(res);
    assert.equal(body.success, false);
    assert.equal(body.error?.code, 'NOT_FOUND');
  });

  test('the short route answers image/png bytes', async () => {
    const res = await fetch(`${app.url}/v1/test-invert`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(await samplePng()) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.equal(meta.width, 32);
  });

  test('the short route answers errors as JSON', async () => {
    const res = await fetch(`${app.url}/v1/test-invert`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: Buffer.from('not a png') });
    assert.equal(res.status, 400);
    assert.equal((await envelope(res)).error?.code, 'INVALID_IMAGE');
  });

  test('logs one line per request with id, method, route, status and duration, and no payload', async () => {
    const png = await samplePng();
    const b64 = png.toString('base64');
    await postJson(`${app.url}/api/v1/test/invert`, { image: b64 }, { 'x-request-id': 'trace-abc-123' });
    const line = app.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.reqId === 'trace-abc-123' && l.msg === 'request');
    assert.ok(line, 'a request line with the given request id');
    assert.equal(line.method, 'POST');
    assert.equal(line.route, '/api/v1/test/invert');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.ok(!app.logs.join('').includes(b64.slice(0, 40)), 'no base64 in the logs');
  });
});

describe('internal errors', () => {
  test('answer a bare 500 INTERNAL_ERROR without the detail, which goes to the log', async () => {
    const router = Router();
    router.get('/boom', () => {
      throw new Error('database password is hunter2');
    });
    const app = await startTestApp({ deps: { routers: [{ path: '/x', router, inference: false }] } });
    try {
      const res = await fetch(`${app.url}/x/boom`);
      assert.equal(res.status, 500);
      const body = await envelope(res);
      assert.equal(body.error?.code, 'INTERNAL_ERROR');
      assert.ok(!JSON.stringify(body).includes('hunter2'));
      assert.ok(!JSON.stringify(body).includes('at '), 'no stack trace');
      assert.ok(app.logs.some((l) => l.includes('hunter2')), 'the detail is logged');
    } finally {
      await app.close();
    }
  });

  test('render an AppError thrown by a route with its status and code', async () => {
    const router = Router();
    router.get('/gone', () => {
      throw new AppError('MODEL_UNAVAILABLE', 'isnet-general is not downloaded: run npm run models -- pull isnet-general');
    });
    const app = await startTestApp({ deps: { routers: [{ path: '/x', router, inference: false }] } });
    try {
      const res = await fetch(`${app.url}/x/gone`);
      assert.equal(res.status, 503);
      assert.equal((await envelope(res)).error?.code, 'MODEL_UNAVAILABLE');
    } finally {
      await app.close();
    }
  });
});

describe('health and readiness', () => {
  test('/health answers status, version, uptime, device and models', async () => {
    const app = await startTestApp();
    try {
      const res = await fetch(`${app.url}/health`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.status, 'ok');
      assert.match(String(body.version), /^\d+\.\d+\.\d+/);
      assert.equal(typeof body.uptime, 'number');
      assert.equal(body.device, 'cpu');
      assert.ok(Array.isArray(body.models));
    } finally {
      await app.close();
    }
  });

  test('readiness answers 503 NOT_READY until start-up has finished', async () => {
    const app = await startTestApp({ ready: false });
    try {
      const res = await fetch(`${app.url}/ready`);
      assert.equal(res.status, 503);
      assert.equal((await envelope(res)).error?.code, 'NOT_READY');
      assert.ok(res.headers.get('retry-after'));
      assert.equal((await fetch(`${app.url}/health`)).status, 200, 'health still answers');
    } finally {
      await app.close();
    }
  });
});

describe('auth', () => {
  const key = 'k'.repeat(24);

  test('with API_KEY set, a request without the key is 401 UNAUTHORIZED', async () => {
    const app = await startTestApp({ env: { API_KEY: key } });
    try {
      const res = await postJson(`${app.url}/api/v1/test/invert`, { image: (await samplePng()).toString('base64') });
      assert.equal(res.status, 401);
      assert.equal((await envelope(res)).error?.code, 'UNAUTHORIZED');
      const wrong = await postJson(`${app.url}/api/v1/test/invert`, { image: '' }, { authorization: `Bearer ${'x'.repeat(24)}` });
      assert.equal(wrong.status, 401);
    } finally {
      await app.close();
    }
  });

  test('with API_KEY set, the right bearer key passes and health stays open', async () => {
    const app = await startTestApp({ env: { API_KEY: key } });
    try {
      const res = await postJson(`${app.url}/api/v1/test/invert`, { image: (await samplePng()).toString('base64') }, { authorization: `Bearer ${key}` });
      assert.equal(res.status, 200);
      assert.equal((await fetch(`${app.url}/health`)).status, 200);
      assert.ok(!app.logs.join('').includes(key), 'the key is never logged');
    } finally {
      await app.close();
    }
  });

  test('without API_KEY, requests need no key', async () => {
    const app = await startTestApp();
    try {
      const res = await postJson(`${app.url}/api/v1/test/invert`, { image: (await samplePng()).toString('base64') });
      assert.equal(res.status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('CORS', () => {
  test('allows only the configured origins and answers preflights', async () => {
    const app = await startTestApp({ env: { CORS_ORIGINS: 'https://app.fotofun.example' } });
    try {
      const ok = await fetch(`${app.url}/health`, { headers: { origin: 'https://app.fotofun.example' } });
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.fotofun.example');
      const other = await fetch(`${app.url}/health`, { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      const pre = await fetch(`${app.url}/api/v1/test/invert`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.fotofun.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(pre.status, 204);
      for (const header of ['Authorization', 'X-Admin-Key', 'X-Webhook-Url', 'Idempotency-Key']) {
        assert.match(pre.headers.get('access-control-allow-headers') ?? '', new RegExp(header), header);
      }
    } finally {
      await app.close();
    }
  });
});

describe('limits', () => {
  test('answers 413 PAYLOAD_TOO_LARGE for a body over MAX_FILE_SIZE, and keeps serving', async () => {
    const app = await startTestApp({ env: { MAX_FILE_SIZE: '2kb' } });
    try {
      const big = new Uint8Array(64 * 1024).fill(7);
      const res = await fetch(`${app.url}/v1/test-invert`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: big });
      assert.equal(res.status, 413);
      assert.equal((await envelope(res)).error?.code, 'PAYLOAD_TOO_LARGE');
      assert.equal((await fetch(`${app.url}/health`)).status, 200);
    } finally {
      await app.close();
    }
  });

  test('answers 429 RATE_LIMITED with Retry-After past RATE_LIMIT_PER_MINUTE', async () => {
    const app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${app.url}/api/v1/nothing`)).status);
      assert.deepEqual(statuses, [404, 404, 429]);
      const res = await fetch(`${app.url}/api/v1/nothing`);
      assert.equal((await envelope(res)).error?.code, 'RATE_LIMITED');
      assert.ok(res.headers.get('retry-after'));
    } finally {
      await app.close();
    }
  });

  test('answers 503 OVERLOADED with Retry-After once the running and queued slots are full', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let startedCount = 0;
    let onStarted!: () => void;
    const firstStarted = new Promise<void>((r) => (onStarted = r));
    const task = invertTask({ started: (n) => { startedCount = n; if (n === 1) onStarted(); }, release: released });
    const gate = new ConcurrencyGate(1, 1);
    const app = await startTestApp({ tasks: [task], deps: { gate } });
    try {
      const body = { image: (await samplePng()).toString('base64') };
      const first = postJson(`${app.url}/api/v1/test/invert`, body);
      await firstStarted;
      const second = postJson(`${app.url}/api/v1/test/invert`, body);
      while (gate.stats().queued < 1) await new Promise((r) => setImmediate(r));
      const third = await postJson(`${app.url}/api/v1/test/invert`, body);
      assert.equal(third.status, 503);
      assert.equal((await envelope(third)).error?.code, 'OVERLOADED');
      assert.ok(Number(third.headers.get('retry-after')) > 0);
      release();
      assert.equal((await first).status, 200);
      assert.equal((await second).status, 200, 'the queued request is served, not dropped');
      assert.equal(startedCount, 2);
      assert.equal((await fetch(`${app.url}/health`)).status, 200);
    } finally {
      release();
      await app.close();
    }
  });

  test('answers 504 TIMEOUT past REQUEST_TIMEOUT', async () => {
    const never = new Promise<void>(() => undefined);
    const app = await startTestApp({ tasks: [invertTask({ started: () => undefined, release: never })], env: { REQUEST_TIMEOUT: '200' } });
    try {
      const res = await postJson(`${app.url}/api/v1/test/invert`, { image: (await samplePng()).toString('base64') });
      assert.equal(res.status, 504);
      assert.equal((await envelope(res)).error?.code, 'TIMEOUT');
    } finally {
      await app.close();
    }
  });
});
