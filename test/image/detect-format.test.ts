import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../../src/errors.js';
import { detectFormat } from '../../src/image/detect-format.js';
import { SVG, bmp, fixture, solid } from './samples.js';

function refusal(buf: Buffer): AppError {
  try {
    detectFormat(buf);
  } catch (err) {
    assert.ok(err instanceof AppError);
    return err;
  }
  assert.fail('detectFormat accepted the data');
}

describe('detectFormat', () => {
  test('recognises JPEG, PNG and WebP by their magic bytes', async () => {
    assert.equal(detectFormat(fixture('faces-group-1.jpg')), 'jpeg');
    assert.equal(detectFormat(fixture('small-128.png')), 'png');
    assert.equal(detectFormat(await solid({ width: 2, height: 2 }).webp().toBuffer()), 'webp');
  });

  const refused: Array<[string, () => Promise<Buffer> | Buffer, RegExp]> = [
    ['gif', () => solid({ width: 2, height: 2 }).gif().toBuffer(), /GIF/],
    ['bmp', () => bmp(), /BMP/],
    ['svg', () => SVG, /SVG/],
    ['svg', () => Buffer.from('\uFEFF  <?xml version="1.0"?>\n<svg/>'), /SVG/],
    ['tiff', () => solid({ width: 2, height: 2 }).tiff().toBuffer(), /TIFF/],
    ['avif', () => solid({ width: 2, height: 2 }).avif().toBuffer(), /AVIF/],
    ['pdf', () => Buffer.from('%PDF-1.7\n%âãÏÓ\n'), /PDF/],
  ];
  for (const [id, make, label] of refused) {
    test(`refuses ${id} with 415 UNSUPPORTED_FORMAT naming the type and the accepted ones`, async () => {
      const err = refusal(await make());
      assert.equal(err.code, 'UNSUPPORTED_FORMAT');
      assert.equal(err.status, 415);
      assert.match(err.message, label);
      assert.match(err.message, /JPEG, PNG or WebP/);
      assert.deepEqual(err.details, { detected: id, accepted: ['jpeg', 'png', 'webp'] });
    });
  }

  test('refuses HEIC by its ftyp brand', () => {
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1')]);
    assert.match(refusal(heic).message, /HEIC/);
  });

  test('answers INVALID_IMAGE for zero bytes and for data that is no image', () => {
    const empty = refusal(Buffer.alloc(0));
    assert.equal(empty.code, 'INVALID_IMAGE');
    assert.match(empty.message, /empty/);
    const text = refusal(Buffer.from('hello, this is not a picture'));
    assert.equal(text.code, 'INVALID_IMAGE');
    assert.equal(refusal(Buffer.from([0xff, 0xd8])).code, 'INVALID_IMAGE');
  });

  test('is not fooled by a RIFF file that is not WebP', () => {
    assert.equal(refusal(Buffer.from('RIFF\x10\0\0\0WAVEfmt ', 'latin1')).code, 'INVALID_IMAGE');
  });

  test('sharp agrees with the detected type on the fixtures', async () => {
    const meta = await sharp(fixture('small-128.png')).metadata();
    assert.equal(meta.format, detectFormat(fixture('small-128.png')));
  });
});
