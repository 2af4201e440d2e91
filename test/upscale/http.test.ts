import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { upscaleTask } from '../../src/tasks/upscale.js';
import { postJson, samplePng, startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { nearestUpscaleModel } from '../kit/onnx.js';

interface ErrorBody {
  error: { code: string; message: string; details?: { largestInput?: { width: number; height: number } } };
}

describe('upscale routes', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({
      tasks: [upscaleTask],
      runner: directRunner({ 'realesrgan-x4fast': nearestUpscaleModel(4).toBytes() }),
      env: { MAX_OUTPUT_PIXELS: '20000' },
    });
  });
  after(() => app.close());

  test('POST /v1/upscale answers the ×4 image as PNG bytes', async () => {
    const res = await fetch(`${app.url}/v1/upscale`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(await samplePng(16, 12)) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 48]);
  });

  test('answers 413 IMAGE_TOO_LARGE naming the largest input for the scale when the output would pass MAX_OUTPUT_PIXELS', async () => {
    const res = await postJson(`${app.url}/api/v1/realesrgan/upscale`, { image: (await samplePng(64, 48)).toString('base64'), options: { scale: 4 } });
    assert.equal(res.status, 413);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, 'IMAGE_TOO_LARGE');
    const largest = body.error.details?.largestInput;
    assert.ok(largest && largest.width * largest.height * 16 <= 20000, 'the suggested input fits the limit at ×4');
  });

  test('answers 400 INVALID_IMAGE for a truncated PNG and INVALID_OPTIONS for scale 5', async () => {
    const png = await samplePng(16, 12);
    const cut = await postJson(`${app.url}/api/v1/realesrgan/upscale`, { image: png.subarray(0, png.length - 20).toString('base64') });
    assert.equal(cut.status, 400);
    assert.equal(((await cut.json()) as ErrorBody).error.code, 'INVALID_IMAGE');
    const bad = await postJson(`${app.url}/api/v1/realesrgan/upscale`, { image: png.toString('base64'), options: { scale: 5 } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as ErrorBody).error.code, 'INVALID_OPTIONS');
  });
});
