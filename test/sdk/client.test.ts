import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { AIServiceClient, AIServiceError, AIServiceNotConfiguredError, loadAIServiceConfig } from '../../packages/client/src/index.js';
import { renderSdkOptionTypes } from '../../src/openapi/sdk-types.js';
import { fixture } from '../kit/fixtures.js';
import { startTinyService, type TestService } from './service.js';

const png = (w = 200, h = 160) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 230, g: 230, b: 230 } } })
  .composite([{ input: { create: { width: w / 2, height: h / 2, channels: 3, background: { r: 20, g: 20, b: 20 } } }, left: w / 4, top: h / 4 }]).png().toBuffer();
const sizeOf = async (b: Blob) => { const m = await sharp(Buffer.from(await b.arrayBuffer())).metadata(); return [m.width, m.height, m.format]; };

test('the generated option types match the service schemas (run `npm run sdk:types` after changing an options schema)', () => {
  const committed = fs.readFileSync(new URL('../../packages/client/src/generated/options.ts', import.meta.url), 'utf8');
  assert.equal(committed, renderSdkOptionTypes());
});

test('loadAIServiceConfig reads the app variables, both URL styles; no URL is AIServiceNotConfiguredError', () => {
  const a = loadAIServiceConfig({ NEXT_PUBLIC_AI_SERVICE_URL: 'http://ai:8080/v1', NEXT_PUBLIC_AI_SERVICE_KEY: 'ffk_x', NEXT_PUBLIC_AI_SERVICE_TIMEOUT: '5000', NEXT_PUBLIC_AI_MAX_FILE_SIZE: '1000' });
  assert.deepEqual([a.endpoint, a.apiKey, a.timeout, a.maxFileSize], ['http://ai:8080/v1', 'ffk_x', 5000, 1000]);
  assert.equal(loadAIServiceConfig({ NEXT_PUBLIC_AI_SERVICE_URL: 'http://ai:8080' }).timeout, 30_000);
  assert.throws(() => loadAIServiceConfig({}), AIServiceNotConfiguredError);
  assert.throws(() => loadAIServiceConfig({ NEXT_PUBLIC_AI_SERVICE_URL: 'http://ai', NEXT_PUBLIC_AI_SERVICE_TIMEOUT: 'soon' }), /TIMEOUT must be a positive number/);
  assert.throws(() => new AIServiceClient({ endpoint: '' }), AIServiceNotConfiguredError);
});

describe('AIServiceClient against the service (tiny weights, real HTTP)', () => {
  let svc: TestService;
  let ai: AIServiceClient;
  let photo: Buffer;
  before(async () => {
    svc = await startTinyService();
    ai = new AIServiceClient({ endpoint: `${svc.url}/v1`, timeout: 20_000 });
    photo = await png();
  });
  after(() => svc.close());

  test('health: checkHealth, isHealthy, and the periodic check that reports a change', async () => {
    assert.equal((await ai.checkHealth()).status, 'ok');
    assert.equal(await ai.isHealthy(), true);
    const changed = new Promise<boolean>((resolve) => ai.startHealthCheck(60_000, resolve));
    assert.equal(await changed, true);
    ai.stopHealthCheck();
    assert.equal(await new AIServiceClient({ endpoint: 'http://127.0.0.1:9', timeout: 2000, retries: 0 }).isHealthy(), false);
  });

  test('validateImage: type by bytes, size and header dimensions, before any upload', async () => {
    const ok = await ai.validateImage(new Blob([new Uint8Array(photo)]));
    assert.deepEqual([ok.valid, ok.format, ok.width, ok.height], [true, 'image/png', 200, 160]);
    const jpeg = await ai.validateImage(fixture('faces-group-1.jpg'));
    const meta = await sharp(fixture('faces-group-1.jpg')).metadata();
    assert.deepEqual([jpeg.valid, jpeg.width, jpeg.height], [true, meta.width, meta.height]);
    const webp = await ai.validateImage(await sharp(photo).webp().toBuffer());
    assert.deepEqual([webp.format, webp.width, webp.height], ['image/webp', 200, 160]);
    const gif = await ai.validateImage(Buffer.from('GIF89a\x01\x00\x01\x00'));
    assert.equal(gif.valid, false);
    assert.match(gif.errors.join(), /image\/gif is not supported/);
    const big = await new AIServiceClient({ endpoint: svc.url, maxFileSize: 100 }).validateImage(photo);
    assert.match(big.errors.join(), /over the 100-byte limit/);
    assert.match((await ai.validateImage(photo.subarray(0, 12))).errors.join(), /no readable dimensions/);
    assert.equal((await ai.validateImage('!!not base64!!')).valid, false);
  });

  test("seed 000's removeBackground: JSON with model 'rmbg-1.4' is served by the family default, and says so", async () => {
    const out = await ai.removeBackground(photo, { model: 'rmbg-1.4', returnMask: false });
    assert.deepEqual(await sizeOf(out.image), [200, 160, 'png']);
    assert.equal(out.fallback, 'rmbg-1.4 -> isnet-general-int8');
    assert.deepEqual([out.metadata.model, out.metadata.requestedModel], ['isnet-general-int8', 'rmbg-1.4']);
    assert.equal(typeof out.processingTime, 'number');
  });

  test("seed 001's multipart calls: detectObjects (bare Detection[]), estimateDepth, transferStyle", async () => {
    const white = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const found = await ai.detectObjects(white);
    assert.ok(Array.isArray(found) && found.length === 1, JSON.stringify(found));
    assert.equal(found[0]!.label, 'person');
    assert.deepEqual(Object.keys(found[0]!.box).sort(), ['height', 'width', 'x', 'y']);
    const depth = await ai.estimateDepth(photo);
    assert.deepEqual((await sizeOf(depth.image)).slice(0, 2), [200, 160]);
    const styled = await ai.transferStyle(photo, await sharp({ create: { width: 50, height: 50, channels: 3, background: '#c03020' } }).png().toBuffer());
    assert.deepEqual((await sizeOf(styled.image)).slice(0, 2), [200, 160]);
  });

  test('upscaleImage, inpaint, enhanceFace, beautyFilter', async () => {
    assert.deepEqual((await sizeOf((await ai.upscaleImage(photo, 2)).image)).slice(0, 2), [400, 320]);
    assert.deepEqual((await sizeOf((await ai.upscaleImage(photo, { scale: 4, outputFormat: 'webp' })).image)), [800, 640, 'webp']);
    const mask = await sharp({ create: { width: 200, height: 160, channels: 3, background: '#000000' } })
      .composite([{ input: { create: { width: 20, height: 20, channels: 3, background: '#ffffff' } }, left: 90, top: 70 }]).png().toBuffer();
    const erased = await ai.inpaint(photo, mask, { model: 'telea' });
    assert.equal(erased.metadata.maskedPixels, 400);
    const boxed = await ai.inpaint(photo, null, { boxes: [{ x: 10, y: 10, width: 10, height: 10 }] });
    assert.equal(boxed.metadata.maskedPixels, 100);
    const enhanced = await ai.enhanceFace(photo);
    assert.equal(enhanced.metadata.model, 'gfpgan');
    assert.equal((enhanced.metadata.faces as unknown[]).length, 1);
    const smoothed = await ai.beautyFilter(photo, { strength: 0.3 });
    assert.equal((smoothed.metadata.faces as unknown[]).length, 1);
  });

  test('recognizeText, detectFaces, analyzeFaces, verifyFaces', async () => {
    const text = await sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100"><rect width="100%" height="100%" fill="white"/><rect x="40" y="40" width="24" height="20"/></svg>')).png().toBuffer();
    const ocr = await ai.recognizeText(text);
    assert.equal(typeof ocr.text, 'string');
    assert.ok(Array.isArray(ocr.lines));
    const detected = await ai.detectFaces(photo, { plugins: ['landmarks'] });
    assert.equal((detected.faces as unknown[]).length, 1);
    const analysed = await ai.analyzeFaces(photo);
    assert.ok('age' in ((analysed.faces as Record<string, unknown>[])[0] ?? {}));
    const verified = await ai.verifyFaces(photo, photo);
    assert.equal(verified.match, true);
  });

  test('the face gallery: subjects, faces, recognise, delete', async () => {
    const subject = await ai.gallery.createSubject('Ada', { team: 'x' });
    assert.equal((await ai.gallery.getSubject(subject.id)).name, 'Ada');
    const face = await ai.gallery.addFace(subject.id, photo);
    assert.equal(typeof face.id, 'string');
    const listed = await ai.gallery.listSubjects({ limit: 10 });
    assert.ok((listed.subjects as Record<string, unknown>[]).some((s) => s.id === subject.id));
    const seen = await ai.gallery.recognize(photo);
    assert.ok(JSON.stringify(seen).includes(subject.id), JSON.stringify(seen));
    await ai.gallery.deleteFace(subject.id, String(face.id));
    await ai.gallery.deleteSubject(subject.id);
    await assert.rejects(ai.gallery.getSubject(subject.id), (e: AIServiceError) => e.code === 'NOT_FOUND' && e.status === 404);
  });

  test('models and VRAM: getSupportedModels, getModelInfo, getVram; an unknown model is AIServiceError 404', async () => {
    const models = await ai.getSupportedModels();
    assert.ok(models.some((m) => m.id === 'isnet-general' && m.downloaded === true));
    assert.equal((await ai.getModelInfo('centernet')).id, 'centernet');
    assert.equal(typeof (await ai.getVram()), 'object');
    await assert.rejects(ai.getModelInfo('no-such-model'), (e: AIServiceError) => e instanceof AIServiceError && e.status === 404);
  });

  test('jobs: submit, events (resuming after a given id), wait with progress, result, get, list, cancel', async () => {
    const job = await ai.jobs.submit('remove-background', photo, { outputFormat: 'webp' }, { idempotencyKey: 'sdk-test-1' });
    assert.equal((await ai.jobs.submit('remove-background', photo, { outputFormat: 'webp' }, { idempotencyKey: 'sdk-test-1' })).id, job.id, 'the same key is the same job');
    const stages: string[] = [];
    const done = await ai.jobs.wait(job.id, { onProgress: (_p, stage) => stages.push(stage) });
    assert.equal(done.status, 'completed');
    const all = [];
    for await (const e of ai.jobs.events(job.id)) all.push(e);
    assert.equal(all.at(-1)!.type, 'done');
    const resumed = [];
    for await (const e of ai.jobs.events(job.id, { lastEventId: all[1]!.id })) resumed.push(e.id);
    assert.deepEqual(resumed, all.slice(2).map((e) => e.id), 'resuming after an id replays only what came after it');
    const blob = (await ai.jobs.result(job.id)) as Blob;
    assert.equal((await sizeOf(blob))[2], 'webp');
    assert.equal((await ai.jobs.get(job.id)).status, 'completed');
    assert.ok((await ai.jobs.list({ limit: 5 })).jobs.some((j) => j.id === job.id));
    const styled = await ai.jobs.submit('transfer-style', photo, {}, { images: { style: photo } });
    assert.equal((await ai.jobs.wait(styled.id)).status, 'completed');
    const ocrJob = await ai.jobs.submit('face-detect', photo);
    await ai.jobs.wait(ocrJob.id);
    assert.equal(((await ai.jobs.result(ocrJob.id)) as { faces: unknown[] }).faces.length, 1);
    await assert.rejects(ai.jobs.cancel(job.id), (e: AIServiceError) => e.code === 'CONFLICT' && e.status === 409);
    const big = await sharp({ create: { width: 900, height: 700, channels: 3, background: '#557744' } }).png().toBuffer();
    const slow = await ai.jobs.submit('inpaint', big, { boxes: [{ x: 50, y: 50, width: 700, height: 500 }], resizeLimit: 900 });
    const cancelled = await ai.jobs.cancel(slow.id);
    assert.ok(['cancelled', 'processing'].includes(cancelled.status), cancelled.status);
    assert.equal((await ai.jobs.wait(slow.id)).status, 'cancelled');
  });

  test('errors carry code, status and details; timeouts and aborts are AIServiceError too', async () => {
    await assert.rejects(ai.removeBackground(photo.subarray(0, 50)), (e: AIServiceError) => e.code === 'INVALID_IMAGE' && e.status === 400);
    await assert.rejects(ai.upscaleImage(photo, 5 as 2), (e: AIServiceError) => e.code === 'INVALID_OPTIONS' && e.details !== undefined);
    const big = await sharp({ create: { width: 900, height: 700, channels: 3, background: '#557744' } }).png().toBuffer();
    await assert.rejects(ai.inpaint(big, null, { boxes: [{ x: 50, y: 50, width: 700, height: 500 }], resizeLimit: 900 }, { timeout: 50 }), (e: AIServiceError) => e.code === 'TIMEOUT');
    const controller = new AbortController();
    const pending = ai.inpaint(big, null, { boxes: [{ x: 50, y: 50, width: 700, height: 500 }] }, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (e: AIServiceError) => e.code === 'ABORTED');
  });
});

test('429 answers are retried as Retry-After says, within the bounds, then surface as RATE_LIMITED with retryAfter', async () => {
  const svc = await startTinyService({ RATE_LIMIT_PER_MINUTE: '1' });
  try {
    const ai = new AIServiceClient({ endpoint: svc.url, retries: 2, maxRetryDelay: 100 });
    const photo = await png();
    await ai.removeBackground(photo);
    const started = Date.now();
    const err = await ai.removeBackground(photo).then(() => undefined, (e: unknown) => e as AIServiceError);
    assert.ok(err instanceof AIServiceError);
    assert.equal(err.code, 'RATE_LIMITED');
    assert.equal(err.status, 429);
    assert.ok((err.retryAfter ?? 0) > 0, `Retry-After ${err.retryAfter}`);
    assert.ok(Date.now() - started >= 200, 'two retries, each waiting the capped 100 ms');
  } finally {
    await svc.close();
  }
});
