import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { looksTruncated } from '../../src/image/truncation.js';
import { validateImage } from '../../src/image/validate.js';
import { fixture, halves, pngDeclaring, solid } from './samples.js';

const LIMITS = { maxFileSize: 5_000_000, maxPixels: 40e6 };

async function rejection(work: Promise<unknown>): Promise<AppError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    return err;
  }
  assert.fail('the image was accepted');
}

describe('validateImage', () => {
  test('accepts the fixtures with their header dimensions and alpha', async () => {
    const jpeg = await validateImage(fixture('faces-group-1.jpg'), LIMITS);
    assert.deepEqual({ ...jpeg, buffer: undefined }, { buffer: undefined, format: 'jpeg', width: 1920, height: 1280, hasAlpha: false });
    const png = await validateImage(fixture('small-128.png'), LIMITS);
    assert.deepEqual([png.format, png.width, png.height, png.hasAlpha], ['png', 128, 128, true]);
  });

  test('answers 413 IMAGE_TOO_LARGE before decoding a 30000² PNG, naming limit and size', async () => {
    const err = await rejection(validateImage(pngDeclaring(30000, 30000), LIMITS));
    assert.equal(err.code, 'IMAGE_TOO_LARGE');
    assert.equal(err.status, 413);
    assert.match(err.message, /30000×30000 \(900000000 pixels\).*40000000 pixels/);
  });

  test('accepts an image exactly at the pixel limit and refuses one pixel more', async () => {
    const png = await solid({ width: 10, height: 10 }).png().toBuffer();
    assert.equal((await validateImage(png, { ...LIMITS, maxPixels: 100 })).width, 10);
    assert.equal((await rejection(validateImage(png, { ...LIMITS, maxPixels: 99 }))).code, 'IMAGE_TOO_LARGE');
  });

  test('answers 413 PAYLOAD_TOO_LARGE for a file over maxFileSize', async () => {
    const err = await rejection(validateImage(fixture('faces-group-1.jpg'), { ...LIMITS, maxFileSize: 1000 }));
    assert.equal(err.code, 'PAYLOAD_TOO_LARGE');
    assert.deepEqual(err.details, { sizeBytes: 144516, limitBytes: 1000 });
  });

  test('answers 400 INVALID_IMAGE for a JPEG cut in half, whose header still reads fine', async () => {
    const jpeg = fixture('faces-group-1.jpg');
    const err = await rejection(validateImage(jpeg.subarray(0, jpeg.length >> 1), LIMITS));
    assert.equal(err.code, 'INVALID_IMAGE');
    assert.match(err.message, /truncated/);
  });

  test('answers 400 INVALID_IMAGE for truncated PNG and WebP files', async () => {
    const png = fixture('small-128.png');
    assert.equal((await rejection(validateImage(png.subarray(0, png.length - 20), LIMITS))).code, 'INVALID_IMAGE');
    const webp = await halves(64, 64).webp().toBuffer();
    assert.equal((await rejection(validateImage(webp.subarray(0, webp.length - 10), LIMITS))).code, 'INVALID_IMAGE');
  });

  test('answers 400 INVALID_IMAGE for a PNG whose header is garbage', async () => {
    const png = Buffer.from(fixture('small-128.png'));
    png.fill(0x42, 12, 33); // IHDR chunk body and CRC
    assert.equal((await rejection(validateImage(png, LIMITS))).code, 'INVALID_IMAGE');
  });

  test('swaps width and height for EXIF orientations 5 to 8 only', async () => {
    for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const jpeg = await halves(40, 20).jpeg().withMetadata({ orientation }).toBuffer();
      const img = await validateImage(jpeg, LIMITS);
      const expected = orientation >= 5 ? [20, 40] : [40, 20];
      assert.deepEqual([img.width, img.height], expected, `orientation ${orientation}`);
    }
  });
});

describe('looksTruncated', () => {
  test('is not fooled by the EOI of an EXIF thumbnail before the scan', async () => {
    const jpeg = fixture('faces-group-2.jpg');
    assert.equal(looksTruncated(jpeg, 'jpeg'), false);
    assert.equal(looksTruncated(jpeg.subarray(0, jpeg.length - 2), 'jpeg'), true);
    const withFakeThumb = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x06, 0xff, 0xd9, 0x00, 0x00]),
      jpeg.subarray(2, jpeg.length >> 1),
    ]);
    assert.equal(looksTruncated(withFakeThumb, 'jpeg'), true);
  });

  test('allows bytes after the JPEG end marker', () => {
    const jpeg = Buffer.concat([fixture('faces-group-1.jpg'), Buffer.from('trailer data')]);
    assert.equal(looksTruncated(jpeg, 'jpeg'), false);
  });
});
