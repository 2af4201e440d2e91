import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../../src/errors.js';
import { decodeRaw } from '../../src/image/decode.js';
import { encodeImage } from '../../src/image/encode.js';
import type { RawImage } from '../../src/image/raw.js';
import { validateImage } from '../../src/image/validate.js';
import { fixture, halves, solid } from './samples.js';

const LIMITS = { maxFileSize: 5_000_000, maxPixels: 40e6 };

function pixel(raw: RawImage, x: number, y: number): number[] {
  const o = (y * raw.width + x) * raw.channels;
  return [...raw.data.subarray(o, o + raw.channels)];
}

describe('decodeRaw', () => {
  test('applies EXIF orientation 6: a left-red/right-blue 40×20 becomes top-red/bottom-blue 20×40', async () => {
    const jpeg = await halves(40, 20).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const raw = await decodeRaw(await validateImage(jpeg, LIMITS));
    assert.deepEqual([raw.width, raw.height, raw.channels], [20, 40, 3]);
    const [r0, , b0] = pixel(raw, 10, 2);
    const [r1, , b1] = pixel(raw, 10, 37);
    assert.ok(r0! > 200 && b0! < 50, `top should be red, got ${pixel(raw, 10, 2)}`);
    assert.ok(b1! > 200 && r1! < 50, `bottom should be blue, got ${pixel(raw, 10, 37)}`);
  });

  test('keeps alpha by default when the input has it, and drops or adds it on request', async () => {
    const img = await validateImage(fixture('small-128.png'), LIMITS);
    assert.equal((await decodeRaw(img)).channels, 4);
    const rgb = await decodeRaw(img, { channels: 3 });
    assert.equal(rgb.channels, 3);
    assert.equal(rgb.data.length, 128 * 128 * 3);
    const jpeg = await validateImage(fixture('faces-group-1.jpg'), LIMITS);
    const rgba = await decodeRaw(jpeg, { channels: 4 });
    assert.deepEqual([rgba.channels, pixel(rgba, 0, 0)[3]], [4, 255]);
  });

  test('answers INVALID_IMAGE for a PNG whose compressed data is corrupt behind an intact header', async () => {
    const png = Buffer.from(fixture('small-128.png'));
    const idat = png.indexOf('IDAT');
    png.fill(0, idat + 100, idat + 400);
    const img = await validateImage(png, LIMITS);
    await assert.rejects(decodeRaw(img), (err: unknown) => err instanceof AppError && err.code === 'INVALID_IMAGE');
  });

  test('decodes a JPEG whose scan stops early but is terminated, as browsers do (failOn "error", not "warning")', async () => {
    const jpeg = fixture('faces-group-1.jpg');
    const cut = Buffer.concat([jpeg.subarray(0, jpeg.length >> 1), Buffer.from([0xff, 0xd9])]);
    const raw = await decodeRaw(await validateImage(cut, LIMITS));
    assert.deepEqual([raw.width, raw.height], [1920, 1280]);
  });

  test('refuses to decode more pixels than the validated header declared', async () => {
    const png = await solid({ width: 64, height: 64 }).png().toBuffer();
    const img = await validateImage(png, LIMITS);
    await assert.rejects(decodeRaw({ ...img, width: 8, height: 8 }), (err: unknown) => err instanceof AppError && err.code === 'INVALID_IMAGE');
  });
});

describe('encodeImage', () => {
  const translucent: RawImage = { data: Buffer.alloc(4 * 4 * 4), width: 4, height: 4, channels: 4 };
  translucent.data.fill(Buffer.from([10, 20, 30, 128]));

  test('keeps alpha in PNG and WebP', async () => {
    for (const format of ['png', 'webp'] as const) {
      const out = await encodeImage(translucent, format);
      const meta = await sharp(out).metadata();
      assert.equal(meta.format, format);
      assert.equal(meta.hasAlpha, true, format);
      const { data } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
      assert.ok(Math.abs(data[3]! - 128) <= 1, `${format} alpha ${data[3]}`);
    }
  });

  test('flattens onto white for JPEG, which has no alpha', async () => {
    const out = await encodeImage(translucent, 'jpeg', { quality: 95 });
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 3);
    // 50% of (10,20,30) over white
    assert.ok(Math.abs(data[0]! - 132) <= 4 && Math.abs(data[2]! - 142) <= 4, `got ${[...data.subarray(0, 3)]}`);
  });

  test('round-trips decoded pixels losslessly through PNG', async () => {
    const img = await validateImage(fixture('small-128.png'), LIMITS);
    const raw = await decodeRaw(img);
    const again = await decodeRaw(await validateImage(await encodeImage(raw, 'png'), LIMITS));
    assert.ok(raw.data.equals(again.data));
  });

  test('answers INVALID_OPTIONS for a quality outside 1–100', async () => {
    await assert.rejects(encodeImage(translucent, 'jpeg', { quality: 0 }), (err: unknown) => err instanceof AppError && err.code === 'INVALID_OPTIONS');
  });
});
