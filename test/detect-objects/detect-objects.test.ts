import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import sharp from 'sharp';
import { testConfig } from '../../src/config.js';
import type { ValidatedImage } from '../../src/image/types.js';
import type { ModelRunner } from '../../src/models/runner.js';
import { DetectObjectsOptions, detectObjectsTask } from '../../src/tasks/detect-objects.js';
import type { ObjectDetection } from '../../src/tasks/detect-objects/detection.js';
import { parseOptions } from '../../src/tasks/options.js';
import type { TaskContext, TaskProgress } from '../../src/tasks/types.js';
import { postJson, startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { validated } from '../kit/images.js';
import { createHarness, untilStatus } from '../jobs/kit.js';
import { tinyCenterNet, tinyNanoDet } from './tiny-detectors.js';

const DOG = 16;
const PERSON = 0;
const CAR = 2;

/** Rows in 512² input pixels. A 1024×512 photo letterboxes to 512×256 at y 128, so (100,228)–(200,328) is (200,200)–(400,400). */
const runner = () => directRunner({
  centernet: tinyCenterNet([
    [100, 228, 200, 328, 0.9, DOG],
    [110, 230, 210, 330, 0.6, DOG],
    [100, 228, 200, 328, 0.8, PERSON],
    [300, 200, 400, 300, 0.2, CAR],
  ]),
  nanodet: tinyNanoDet([{ row: 10, col: 20, classId: DOG, score: 0.9, bins: [3, 2, 5, 4] }]),
});

const solid = (width: number, height: number, v: number, format: 'png' | 'jpeg' = 'png') =>
  sharp({ create: { width, height, channels: 3, background: { r: v, g: v, b: v } } })[format]().toBuffer();

function context(r: ModelRunner) {
  const progress: TaskProgress[] = [];
  const ctx: TaskContext = { runner: r, config: testConfig(), logger: pino({ level: 'silent' }), signal: new AbortController().signal, onProgress: (p) => progress.push(p), owner: 'test' };
  return { ctx, progress };
}

async function detect(image: ValidatedImage, raw: Record<string, unknown> = {}, r: ModelRunner = runner()) {
  const { ctx, progress } = context(r);
  const result = await detectObjectsTask.run(image, parseOptions(DetectObjectsOptions, raw), ctx);
  assert.equal(result.kind, 'json');
  const data = result.data as { detections: ObjectDetection[]; image: { width: number; height: number } };
  return { ...data, metadata: result.metadata!, progress };
}

describe('detect-objects task', () => {
  let wide: ValidatedImage;
  before(async () => {
    wide = await validated(await solid(1024, 512, 255));
  });

  test('centernet rows come back in original pixels through the letterbox, class-wise NMS merging one duplicate', async () => {
    const { detections, image, metadata, progress } = await detect(wide);
    assert.deepEqual(image, { width: 1024, height: 512 });
    assert.deepEqual(detections.map((d) => [d.label, d.score]), [['dog', 0.9], ['person', 0.8]], 'the overlapping 0.6 dog is merged; the person over it is another class; the 0.2 car is under the 0.3 default');
    assert.deepEqual(detections[0]!.box, { x: 200, y: 200, width: 200, height: 200 });
    assert.equal(detections[0]!.classId, DOG);
    assert.equal(metadata.model, 'centernet');
    assert.equal(metadata.device, 'cpu');
    assert.equal(metadata.minScore, 0.3);
    assert.deepEqual(progress.map((p) => p.stage), ['preprocess', 'inference', 'done']);
  });

  test('minScore, classes (list or comma text), maxDetections and iouThreshold filter as documented', async () => {
    assert.equal((await detect(wide, { minScore: 0.1 })).detections.length, 3, 'the car at 0.2');
    assert.deepEqual((await detect(wide, { classes: 'person,car', minScore: 0.1 })).detections.map((d) => d.label), ['person', 'car']);
    assert.deepEqual((await detect(wide, { classes: ['dog'] })).detections.map((d) => d.label), ['dog']);
    assert.deepEqual((await detect(wide, { maxDetections: 1 })).detections.map((d) => d.label), ['dog']);
    assert.equal((await detect(wide, { iouThreshold: 0.95 })).detections.length, 3, 'at 0.95 the two dog boxes (IoU ≈ 0.7) both stay');
  });

  test('a black photo finds nothing: scores follow the model, not a fixed answer', async () => {
    const { detections } = await detect(await validated(await solid(640, 480, 0)));
    assert.deepEqual(detections, []);
  });

  test('nanodet decodes distance distributions from its cell centre at stride 8 and maps back', async () => {
    const { detections, metadata } = await detect(await validated(await solid(832, 832, 255)), { model: 'nanodet' });
    assert.equal(metadata.model, 'nanodet');
    assert.equal(detections.length, 1);
    // cell (row 10, col 20) centre (164, 84); distances 3, 2, 5, 4 bins × 8 px; ×2 back to 832².
    assert.deepEqual(detections[0], { label: 'dog', classId: DOG, score: 0.9, box: { x: 280, y: 136, width: 128, height: 96 } });
  });

  test('options are validated: unknown labels name the valid ones, ranges and unknown keys are refused', () => {
    assert.throws(() => parseOptions(DetectObjectsOptions, { classes: ['unicorn'] }), (e: { code: string; message: string }) => e.code === 'INVALID_OPTIONS' && /expects COCO labels: person, bicycle/.test(e.message));
    assert.throws(() => parseOptions(DetectObjectsOptions, { minScore: 2 }), { code: 'INVALID_OPTIONS' });
    assert.throws(() => parseOptions(DetectObjectsOptions, { model: 'yolo' }), { code: 'INVALID_OPTIONS' });
    assert.throws(() => parseOptions(DetectObjectsOptions, { maxDetections: 0 }), { code: 'INVALID_OPTIONS' });
    assert.throws(() => parseOptions(DetectObjectsOptions, { threshold: 0.5 }), { code: 'INVALID_OPTIONS' });
  });
});

describe('detect-objects over HTTP', () => {
  let app: TestApp;
  let photo: Buffer;
  before(async () => {
    app = await startTestApp({ tasks: [detectObjectsTask], runner: runner() });
    photo = await solid(1024, 512, 255);
  });
  after(() => app.close());

  test('POST /api/v1/transformers/detect-objects answers the seed envelope with detections, image size and metadata', async () => {
    const res = await postJson(`${app.url}/api/v1/transformers/detect-objects`, { image: photo.toString('base64'), format: 'png' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { success: boolean; result: { detections: ObjectDetection[]; image: unknown; metadata: { timings: Record<string, number> } }; processingTime: number };
    assert.equal(body.success, true);
    assert.deepEqual(body.result.detections.map((d) => d.label), ['dog', 'person']);
    assert.deepEqual(body.result.image, { width: 1024, height: 512 });
    assert.ok(body.result.metadata.timings.inferenceMs! >= 0);
    assert.ok(body.processingTime >= 0);
  });

  test('POST /v1/detect-objects (multipart or a raw body) answers the bare Detection[] array', async () => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'photo.png');
    form.append('classes', 'dog');
    const multipart = await fetch(`${app.url}/v1/detect-objects`, { method: 'POST', body: form });
    assert.equal(multipart.status, 200);
    const list = (await multipart.json()) as ObjectDetection[];
    assert.ok(Array.isArray(list));
    assert.deepEqual(list, [{ label: 'dog', classId: DOG, score: 0.9, box: { x: 200, y: 200, width: 200, height: 200 } }]);
    const raw = await fetch(`${app.url}/v1/detect-objects?minScore=0.1`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(photo) });
    assert.equal(((await raw.json()) as ObjectDetection[]).length, 3);
  });

  test('annotate returns the photo with the boxes drawn on it, and the detections in metadata', async () => {
    const res = await fetch(`${app.url}/v1/detect-objects?annotate=true&outputFormat=png&classes=dog`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(photo) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const { data, info } = await sharp(Buffer.from(await res.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [1024, 512]);
    const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    assert.notDeepEqual(px(200, 300), [255, 255, 255], 'the box edge is drawn');
    assert.deepEqual(px(300, 300), [255, 255, 255], 'inside the box the photo is untouched');
    assert.deepEqual(px(700, 100), [255, 255, 255]);
    const json = await postJson(`${app.url}/api/v1/transformers/detect-objects`, { image: photo.toString('base64'), options: { annotate: true } });
    const body = (await json.json()) as { result: { format: string; image: string; metadata: { detections: unknown[] } } };
    assert.equal(body.result.format, 'jpeg');
    assert.equal(body.result.metadata.detections.length, 2);
  });

  test('bad input answers a 4xx with a stable code and the server keeps serving', async () => {
    const bad = async (body: unknown, status: number, code: string) => {
      const res = await postJson(`${app.url}/api/v1/transformers/detect-objects`, body);
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    };
    await bad({ image: photo.toString('base64'), options: { classes: ['unicorn'] } }, 400, 'INVALID_OPTIONS');
    await bad({ image: photo.toString('base64'), options: { iouThreshold: -1 } }, 400, 'INVALID_OPTIONS');
    const jpeg = await solid(64, 64, 128, 'jpeg');
    await bad({ image: jpeg.subarray(0, jpeg.length - 40).toString('base64') }, 400, 'INVALID_IMAGE');
    await bad({ image: 'not base64!!' }, 400, 'INVALID_IMAGE');
    await bad({ image: Buffer.from('GIF89a\x01\x00\x01\x00').toString('base64') }, 415, 'UNSUPPORTED_FORMAT');
    const ok = await postJson(`${app.url}/api/v1/transformers/detect-objects`, { image: photo.toString('base64') });
    assert.equal(ok.status, 200);
  });
});

test('detect-objects runs as an async job and its JSON result holds the detections', async () => {
  const h = createHarness([detectObjectsTask], {}, { runner: runner() });
  h.queue.start();
  try {
    const image = await validated(await solid(1024, 512, 255));
    const { job } = await h.queue.submit({ owner: 'anonymous', operation: 'detect-objects', image, options: { classes: 'person' } });
    const completed = untilStatus(h.queue, job.id, 'completed');
    if (h.queue.get(job.id, 'anonymous').status !== 'completed') await completed;
    const result = await h.queue.result(job.id, 'anonymous');
    const data = JSON.parse(result.body.toString('utf8')) as { detections: ObjectDetection[] };
    assert.deepEqual(data.detections.map((d) => [d.label, d.box]), [['person', { x: 200, y: 200, width: 200, height: 200 }]]);
  } finally {
    await h.queue.close();
  }
});
