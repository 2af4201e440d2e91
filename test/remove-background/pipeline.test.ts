import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { removeBackgroundTask, RemoveBackgroundOptions } from '../../src/tasks/remove-background.js';
import type { TaskResult } from '../../src/tasks/types.js';
import { directRunner } from '../kit/direct-runner.js';
import { darkBoxOnLight, darkIsSubjectModel, rawPixels, spyRunner, taskContext, type Shape } from './kit.js';
import { validated } from '../kit/images.js';

const tiny = darkIsSubjectModel();
const runner = spyRunner(directRunner({ 'isnet-general': tiny, 'isnet-general-int8': tiny, 'isnet-general-small': tiny }));
const ctx = taskContext(runner);
const BOX: Shape = { left: 300, top: 200, width: 400, height: 500 };

async function removeFrom(png: Buffer, options: unknown = {}): Promise<Extract<TaskResult, { kind: 'image' }>> {
  const opts = RemoveBackgroundOptions.parse(options);
  const result = await removeBackgroundTask.run(await validated(png), opts, ctx);
  assert.equal(result.kind, 'image');
  return result as Extract<TaskResult, { kind: 'image' }>;
}

const at = (px: { data: Buffer; width: number; channels: number }, x: number, y: number, c: number) =>
  px.data[(y * px.width + x) * px.channels + c]!;

/** Alpha of the row through the middle of BOX, from `from` to `to` (inclusive). */
function alphaRow(px: { data: Buffer; width: number; channels: number }, y: number, from: number, to: number, c = 3): number[] {
  const out: number[] = [];
  for (let x = from; x <= to; x++) out.push(at(px, x, y, c));
  return out;
}

describe('remove-background on a model with ISNet’s signature', () => {
  test('cuts a dark box out of a light 1024² image: opaque inside, transparent outside, colours kept', async () => {
    const result = await removeFrom(await darkBoxOnLight(1024, 1024, BOX));
    assert.equal(result.format, 'png');
    const px = await rawPixels(result.image);
    assert.deepEqual([px.width, px.height, px.channels], [1024, 1024, 4]);
    let wrong = 0;
    for (let y = 0; y < 1024; y++) {
      for (let x = 0; x < 1024; x++) {
        const inside = x >= BOX.left && x < BOX.left + BOX.width && y >= BOX.top && y < BOX.top + BOX.height;
        if (at(px, x, y, 3) !== (inside ? 255 : 0)) wrong++;
      }
    }
    assert.equal(wrong, 0);
    assert.deepEqual([at(px, 500, 500, 0), at(px, 500, 500, 1), at(px, 500, 500, 2)], [10, 10, 10]);
  });

  test('asks the runner for the "output" tensor only, with the request’s abort signal', async () => {
    const before = runner.options.length;
    await removeFrom(await darkBoxOnLight(64, 64, { left: 8, top: 8, width: 16, height: 16 }));
    const opts = runner.options[before];
    assert.deepEqual(opts?.outputs, ['output']);
    assert.equal(opts?.signal, ctx.signal);
  });

  test('returns the original size for a non-square photo, with the subject where it was drawn', async () => {
    const result = await removeFrom(await darkBoxOnLight(640, 360, { left: 100, top: 60, width: 200, height: 120 }));
    const px = await rawPixels(result.image);
    assert.deepEqual([px.width, px.height], [640, 360]);
    assert.equal(at(px, 200, 120, 3), 255);
    assert.equal(at(px, 500, 300, 3), 0);
    const { model, width, height, device, timings } = result.metadata as Record<string, unknown> & { timings: Record<string, number> };
    assert.deepEqual({ model, width, height, device }, { model: 'isnet-general-int8', width: 640, height: 360, device: 'cpu' });
    for (const key of ['decodeMs', 'preprocessMs', 'inferenceMs', 'runMs', 'postprocessMs', 'encodeMs']) {
      assert.ok(Number.isFinite(timings[key]) && timings[key]! >= 0, key);
    }
  });

  test('model "isnet-general-small" runs that model id', async () => {
    const before = runner.calls.length;
    const result = await removeFrom(await darkBoxOnLight(64, 64, { left: 8, top: 8, width: 16, height: 16 }), { model: 'isnet-general-small' });
    assert.deepEqual(runner.calls.slice(before), ['isnet-general-small']);
    assert.equal(result.metadata.model, 'isnet-general-small');
  });

  test('returnMask gives a one-channel mask: 255 on the subject, 0 elsewhere', async () => {
    const result = await removeFrom(await darkBoxOnLight(1024, 1024, BOX), { returnMask: true });
    const px = await rawPixels(result.image);
    assert.equal(px.channels, 1);
    assert.equal(at(px, 500, 500, 0), 255);
    assert.equal(at(px, 100, 100, 0), 0);
    assert.equal(at(px, BOX.left - 1, 500, 0), 0);
    assert.equal(at(px, BOX.left, 500, 0), 255);
  });

  test('alphaThreshold turns a soft mask hard: 175 becomes 255 and 80 becomes 0 at 0.5', async () => {
    // Grey 127 scores sigmoid(0.78) ≈ 0.686 (alpha 175), grey 129 sigmoid(−0.78) ≈ 0.314 (alpha 80).
    const png = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: { r: 129, g: 129, b: 129 } } })
      .composite([{ input: { create: { width: 512, height: 1024, channels: 3, background: { r: 127, g: 127, b: 127 } } }, left: 0, top: 0 }])
      .png()
      .toBuffer();
    const soft = await rawPixels((await removeFrom(png, { returnMask: true })).image);
    assert.deepEqual([at(soft, 100, 100, 0), at(soft, 900, 100, 0)], [175, 80]);
    const hard = await rawPixels((await removeFrom(png, { returnMask: true, alphaThreshold: 0.5 })).image);
    assert.deepEqual([at(hard, 100, 100, 0), at(hard, 900, 100, 0)], [255, 0]);
    const high = await rawPixels((await removeFrom(png, { returnMask: true, alphaThreshold: 0.7 })).image);
    assert.deepEqual([at(high, 100, 100, 0), at(high, 900, 100, 0)], [0, 0]);
  });

  test('smoothEdges puts intermediate alpha on a hard edge and leaves the interior alone', async () => {
    const png = await darkBoxOnLight(1024, 1024, BOX);
    const y = 450;
    const hard = alphaRow(await rawPixels((await removeFrom(png)).image), y, BOX.left - 3, BOX.left + 2);
    assert.deepEqual(hard, [0, 0, 0, 255, 255, 255]);
    const smooth = await rawPixels((await removeFrom(png, { postProcessing: { smoothEdges: true } })).image);
    const edge = alphaRow(smooth, y, BOX.left - 3, BOX.left + 2);
    assert.ok(edge[2]! > 0 && edge[2]! < 128 && edge[3]! > 128 && edge[3]! < 255, `edge ${edge.join(',')}`);
    assert.equal(at(smooth, 500, 450, 3), 255);
    assert.equal(at(smooth, 100, 100, 3), 0);
  });

  test('featherRadius 10 ramps alpha across the edge and keeps it hard 20 px away', async () => {
    const result = await removeFrom(await darkBoxOnLight(1024, 1024, BOX), { postProcessing: { featherRadius: 10 } });
    const px = await rawPixels(result.image);
    const row = alphaRow(px, 450, BOX.left - 20, BOX.left + 19);
    assert.equal(row[0], 0);
    assert.equal(row[39], 255);
    for (let i = 1; i < row.length; i++) assert.ok(row[i]! >= row[i - 1]!, `alpha rises monotonically: ${row.join(',')}`);
    assert.ok(Math.abs(row[20]! - 128) <= 16, `about half at the edge, got ${row[20]}`);
    assert.ok(row[15]! > 0 && row[25]! < 255, `a ramp several pixels wide: ${row.join(',')}`);
  });

  test('bgColor fills the background with the colour and returns an opaque RGB image', async () => {
    const png = await darkBoxOnLight(1024, 1024, BOX);
    for (const bgColor of ['#ff8000', [255, 128, 0]]) {
      const px = await rawPixels((await removeFrom(png, { bgColor })).image);
      assert.equal(px.channels, 3);
      assert.deepEqual([at(px, 100, 100, 0), at(px, 100, 100, 1), at(px, 100, 100, 2)], [255, 128, 0]);
      assert.deepEqual([at(px, 500, 500, 0), at(px, 500, 500, 1), at(px, 500, 500, 2)], [10, 10, 10]);
    }
  });

  test('crop trims the cut-out and the mask to the subject’s box', async () => {
    const png = await darkBoxOnLight(1024, 1024, BOX);
    const cut = await rawPixels((await removeFrom(png, { crop: true })).image);
    assert.deepEqual([cut.width, cut.height], [BOX.width, BOX.height]);
    assert.equal(at(cut, 0, 0, 3), 255);
    assert.equal(at(cut, BOX.width - 1, BOX.height - 1, 3), 255);
    const result = await removeFrom(png, { crop: true, returnMask: true });
    assert.deepEqual([result.metadata.width, result.metadata.height], [BOX.width, BOX.height]);
    const mask = await rawPixels(result.image);
    assert.deepEqual([mask.width, mask.height, mask.channels], [BOX.width, BOX.height, 1]);
  });

  test('crop leaves an image with no subject at its full size, fully transparent', async () => {
    const blank = await sharp({ create: { width: 200, height: 100, channels: 3, background: { r: 250, g: 250, b: 250 } } }).png().toBuffer();
    const px = await rawPixels((await removeFrom(blank, { crop: true })).image);
    assert.deepEqual([px.width, px.height], [200, 100]);
    assert.equal(Math.max(...alphaRow(px, 50, 0, 199)), 0);
  });

  test('outputFormat webp returns a WebP whose alpha matches the mask', async () => {
    const result = await removeFrom(await darkBoxOnLight(1024, 1024, BOX), { outputFormat: 'webp' });
    assert.equal(result.format, 'webp');
    assert.equal(result.image.subarray(8, 12).toString('latin1'), 'WEBP');
    const px = await rawPixels(result.image);
    assert.deepEqual([at(px, 500, 500, 3), at(px, 100, 100, 3), at(px, BOX.left, 450, 3), at(px, BOX.left - 1, 450, 3)], [255, 0, 255, 0]);
  });

  test('a pixel transparent in the input stays transparent even where the model sees subject', async () => {
    const rgba = Buffer.alloc(64 * 64 * 4, 10);
    for (let i = 0; i < 64 * 64; i++) rgba[i * 4 + 3] = i % 64 < 32 ? 0 : 255;
    const png = await sharp(rgba, { raw: { width: 64, height: 64, channels: 4 } }).png().toBuffer();
    const px = await rawPixels((await removeFrom(png)).image);
    assert.deepEqual([at(px, 10, 32, 3), at(px, 50, 32, 3)], [0, 255]);
  });

  test('stops before running the model when the request is already aborted', async () => {
    const aborted = new AbortController();
    aborted.abort(new Error('client went away'));
    const before = runner.calls.length;
    const image = await validated(await darkBoxOnLight(64, 64, { left: 8, top: 8, width: 16, height: 16 }));
    await assert.rejects(
      removeBackgroundTask.run(image, RemoveBackgroundOptions.parse({}), { ...ctx, signal: aborted.signal }),
      /client went away/,
    );
    assert.equal(runner.calls.length, before);
  });
});
