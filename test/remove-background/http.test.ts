import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { removeBackgroundTask } from '../../src/tasks/remove-background.js';
import { startTestApp, postJson, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { darkBoxOnLight, darkIsSubjectModel, rawPixels } from './kit.js';

let app: TestApp;
const BOX = { left: 40, top: 30, width: 50, height: 60 };

before(async () => {
  app = await startTestApp({ tasks: [removeBackgroundTask], runner: directRunner({ 'isnet-general-int8': darkIsSubjectModel() }) });
});
after(() => app.close());

describe('remove-background over HTTP (tiny model)', () => {
  test('POST /api/v1/transformers/remove-background fills and crops as the options say', async () => {
    const png = await darkBoxOnLight(160, 120, BOX);
    const res = await postJson(`${app.url}/api/v1/transformers/remove-background`, {
      image: png.toString('base64'),
      format: 'png',
      options: { bgColor: '#00ff00', crop: true },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { success: boolean; result: { image: string; format: string; metadata: Record<string, unknown> } };
    assert.equal(body.success, true);
    assert.equal(body.result.format, 'png');
    const px = await rawPixels(Buffer.from(body.result.image, 'base64'));
    // The box is stretched to 1024² and back, so its border pixels blend; the crop keeps every pixel with alpha ≥ 16.
    assert.ok(Math.abs(px.width - BOX.width) <= 2 && Math.abs(px.height - BOX.height) <= 2, `${px.width}×${px.height}`);
    const mid = ((px.height >> 1) * px.width + (px.width >> 1)) * px.channels;
    assert.deepEqual([...px.data.subarray(mid, mid + 3)], [10, 10, 10]);
    assert.equal(px.channels, 3);
  });

  test('POST /v1/remove-background answers a PNG with a transparent background', async () => {
    const png = await darkBoxOnLight(160, 120, BOX);
    const res = await fetch(`${app.url}/v1/remove-background`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const px = await rawPixels(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual([px.width, px.height, px.channels], [160, 120, 4]);
    assert.equal(px.data[3], 0);
    assert.equal(px.data[(60 * 160 + 65) * 4 + 3], 255);
  });

  test('answers 400 INVALID_OPTIONS naming the bad option', async () => {
    const png = await darkBoxOnLight(32, 32, { left: 4, top: 4, width: 8, height: 8 });
    const res = await postJson(`${app.url}/api/v1/transformers/remove-background`, { image: png.toString('base64'), format: 'png', options: { bgColor: 'green' } });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'INVALID_OPTIONS');
    assert.match(body.error.message, /bgColor/);
  });
});
