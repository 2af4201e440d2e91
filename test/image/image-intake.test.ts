import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import sharp from 'sharp';
import { errorHandler } from '../../src/middleware/error-handler.js';
import { coerceField, readImageRequest, type IntakeLimits } from '../../src/middleware/image-intake.js';
import { SVG, bmp, body, fixture, halves, pngDeclaring, solid } from './samples.js';

const LIMITS: IntakeLimits = { maxFileSize: 1_000_000, maxPixels: 40e6 };

let server: Server;
let base: string;

function summarise(r: Awaited<ReturnType<typeof readImageRequest>>) {
  const images = Object.fromEntries(
    Object.entries(r.images).map(([k, v]) => [k, { format: v.format, width: v.width, height: v.height, hasAlpha: v.hasAlpha, bytes: v.buffer.length }]),
  );
  return { images, options: r.options, format: r.format };
}

before(async () => {
  const app = express();
  app.post('/t', async (req, res, next) => {
    try {
      res.json(summarise(await readImageRequest(req, LIMITS)));
    } catch (e) {
      next(e);
    }
  });
  app.post('/verify', async (req, res, next) => {
    try {
      res.json(summarise(await readImageRequest(req, { ...LIMITS, imageFields: ['source', 'target'] })));
    } catch (e) {
      next(e);
    }
  });
  app.use(errorHandler);
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

interface Answer {
  status: number;
  json: any;
  headers: Headers;
}

async function post(pathname: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(base + pathname, { method: 'POST', ...init });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

const postJson = (payload: unknown, pathname = '/t') =>
  post(pathname, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });

const postRaw = (buf: Buffer, type = 'image/jpeg', query = '') =>
  post(`/t${query}`, { headers: { 'content-type': type }, body: body(buf) });

function form(parts: Record<string, Buffer | string>): FormData {
  const fd = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === 'string') fd.append(name, value);
    else fd.append(name, new Blob([body(value)]), `${name}.bin`);
  }
  return fd;
}

function assertError(answer: Answer, status: number, code: string, pattern?: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.json));
  assert.equal(answer.json.success, false);
  assert.equal(answer.json.error.code, code);
  if (pattern) assert.match(answer.json.error.message, pattern);
}

const jpeg = fixture('faces-group-1.jpg');

describe('readImageRequest over HTTP: bad input', () => {
  test('answers 400 INVALID_IMAGE for a JPEG cut in half', async () => {
    assertError(await postRaw(jpeg.subarray(0, jpeg.length >> 1)), 400, 'INVALID_IMAGE', /truncated/);
  });

  test('answers 413 IMAGE_TOO_LARGE before decoding a 30000² PNG, naming limit and size', async () => {
    const answer = await postRaw(pngDeclaring(30000, 30000), 'image/png');
    assertError(answer, 413, 'IMAGE_TOO_LARGE', /30000×30000/);
    assert.deepEqual(answer.json.error.details, { width: 30000, height: 30000, pixels: 9e8, maxPixels: 40e6 });
  });

  test('answers 400 INVALID_IMAGE for a zero-byte raw body', async () => {
    assertError(await postRaw(Buffer.alloc(0)), 400, 'INVALID_IMAGE', /empty \(0 bytes\)/);
  });

  test('answers 400 INVALID_IMAGE for an empty image in JSON', async () => {
    assertError(await postJson({ image: 'data:image/png;base64,' }), 400, 'INVALID_IMAGE', /empty/);
  });

  test('answers 415 UNSUPPORTED_FORMAT naming GIF, even when sent as image/png', async () => {
    const gif = await solid({ width: 4, height: 4 }).gif().toBuffer();
    const answer = await postRaw(gif, 'image/png');
    assertError(answer, 415, 'UNSUPPORTED_FORMAT', /GIF.*JPEG, PNG or WebP/);
    assert.equal(answer.json.error.details.detected, 'gif');
  });

  test('answers 415 UNSUPPORTED_FORMAT for an SVG sent as base64', async () => {
    assertError(await postJson({ image: SVG.toString('base64') }), 415, 'UNSUPPORTED_FORMAT', /SVG/);
  });

  test('answers 415 UNSUPPORTED_FORMAT for a BMP in a multipart form', async () => {
    assertError(await post('/t', { body: form({ image: bmp() }) }), 415, 'UNSUPPORTED_FORMAT', /BMP/);
  });

  test('answers 400 INVALID_IMAGE saying why for base64 with characters outside the alphabet', async () => {
    assertError(await postJson({ image: 'iVBORw0K*GgoAAA' }), 400, 'INVALID_IMAGE', /not valid base64.*"\*"/);
  });

  test('answers 400 INVALID_IMAGE for base64 with wrong padding', async () => {
    assertError(await postJson({ image: 'iVBORw0KGgo=A' }), 400, 'INVALID_IMAGE', /not valid base64/);
    assertError(await postJson({ image: 'iVBORw0KGg=' }), 400, 'INVALID_IMAGE', /padding/);
  });

  test('answers 400 INVALID_JSON for a malformed JSON body', async () => {
    assertError(await post('/t', { headers: { 'content-type': 'application/json' }, body: '{"image": ' }), 400, 'INVALID_JSON');
  });

  test('answers 400 INVALID_REQUEST naming the field for JSON with no image', async () => {
    const answer = await postJson({ options: {} });
    assertError(answer, 400, 'INVALID_REQUEST', /"image"/);
    assert.equal(answer.json.error.details.field, 'image');
  });

  test('answers 400 INVALID_REQUEST naming the missing image of a two-image request', async () => {
    const png = await solid({ width: 8, height: 8 }).png().toBuffer();
    assertError(await postJson({ source: png.toString('base64') }, '/verify'), 400, 'INVALID_REQUEST', /"target"/);
  });

  test('answers 400 INVALID_REQUEST for a multipart form without a file', async () => {
    assertError(await post('/t', { body: form({ options: '{}' }) }), 400, 'INVALID_REQUEST', /"image" file/);
  });

  test('answers 400 INVALID_REQUEST for a file under an unexpected field name', async () => {
    const png = await solid({ width: 8, height: 8 }).png().toBuffer();
    assertError(await post('/t', { body: form({ file: png }) }), 400, 'INVALID_REQUEST', /"file".*"image"/);
  });

  test('answers 400 INVALID_OPTIONS when options is not an object', async () => {
    const png = await solid({ width: 8, height: 8 }).png().toBuffer();
    assertError(await postJson({ image: png.toString('base64'), options: [1] }), 400, 'INVALID_OPTIONS', /array/);
    assertError(await postJson({ image: png.toString('base64'), options: 'x' }), 400, 'INVALID_OPTIONS', /string/);
  });

  test('answers 400 INVALID_REQUEST for an unknown output format', async () => {
    const png = await solid({ width: 8, height: 8 }).png().toBuffer();
    assertError(await postJson({ image: png.toString('base64'), format: 'gif' }), 400, 'INVALID_REQUEST', /format/);
  });

  test('answers 415 UNSUPPORTED_MEDIA_TYPE for text/plain and for a gzip-encoded body', async () => {
    assertError(await post('/t', { headers: { 'content-type': 'text/plain' }, body: 'hi' }), 415, 'UNSUPPORTED_MEDIA_TYPE', /text\/plain/);
    const gz = await post('/t', { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'x' });
    assertError(gz, 415, 'UNSUPPORTED_MEDIA_TYPE', /gzip/);
  });
});

describe('readImageRequest over HTTP: size limits while streaming', () => {
  const big = Buffer.alloc(LIMITS.maxFileSize + 1, 0xff);

  test('answers 413 PAYLOAD_TOO_LARGE from Content-Length before reading the body', async () => {
    const answer = await postRaw(big);
    assertError(answer, 413, 'PAYLOAD_TOO_LARGE', /limit of 1000000 bytes/);
    assert.equal(answer.headers.get('connection'), 'close');
  });

  test('answers 413 PAYLOAD_TOO_LARGE for a chunked upload once it passes the limit', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0xff);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // the stream would go on to 100 MB; the server must stop it long before
        if (sent > 100e6) controller.close();
        else controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const answer = await post('/t', { headers: { 'content-type': 'image/jpeg' }, body: stream, duplex: 'half' } as RequestInit);
    assertError(answer, 413, 'PAYLOAD_TOO_LARGE');
    assert.ok(sent < 50e6, `the client was allowed to send ${sent} bytes`);
  });

  test('answers 413 PAYLOAD_TOO_LARGE for an oversized multipart file', async () => {
    assertError(await post('/t', { body: form({ image: big }) }), 413, 'PAYLOAD_TOO_LARGE');
  });

  test('answers 413 PAYLOAD_TOO_LARGE for an oversized base64 image in JSON', async () => {
    const answer = await postJson({ image: big.toString('base64') });
    assertError(answer, 413, 'PAYLOAD_TOO_LARGE', /1000001 bytes/);
  });
});

describe('readImageRequest over HTTP: accepted requests', () => {
  test('accepts a data URL and reports the real format and size', async () => {
    const png = await solid({ width: 12, height: 7 }).png().toBuffer();
    const answer = await postJson({ image: `data:image/png;base64,${png.toString('base64')}`, format: 'JPG', options: { scale: 2 } });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual(answer.json, {
      images: { image: { format: 'png', width: 12, height: 7, hasAlpha: false, bytes: png.length } },
      options: { scale: 2 },
      format: 'jpeg',
    });
  });

  test('accepts MIME-wrapped base64 without padding', async () => {
    const png = await solid({ width: 3, height: 3 }).png().toBuffer();
    const wrapped = png.toString('base64').replace(/=+$/, '').replace(/.{76}/g, '$&\r\n');
    const answer = await postJson({ image: wrapped });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.images.image.bytes, png.length);
  });

  test('accepts multipart with an image file and options, coercing plain fields', async () => {
    const answer = await post('/t', {
      body: form({ image: jpeg, options: '{"model":"isnet","threshold":0.5}', scale: '4', 'options[alpha]': 'true', color: '000000', format: 'webp' }),
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual(answer.json.images.image, { format: 'jpeg', width: 1920, height: 1280, hasAlpha: false, bytes: jpeg.length });
    assert.deepEqual(answer.json.options, { model: 'isnet', threshold: 0.5, scale: 4, alpha: true, color: '000000' });
    assert.equal(answer.json.format, 'webp');
  });

  test('accepts two named images for face verify', async () => {
    const png = await solid({ width: 8, height: 6, alpha: 0.5 }).png().toBuffer();
    const answer = await post('/verify', { body: form({ source: jpeg, target: png }) });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.images.source.format, 'jpeg');
    assert.deepEqual(answer.json.images.target, { format: 'png', width: 8, height: 6, hasAlpha: true, bytes: png.length });
  });

  test('names the field of the bad image in a two-image request', async () => {
    const answer = await post('/verify', { body: form({ source: jpeg, target: SVG }) });
    assertError(answer, 415, 'UNSUPPORTED_FORMAT', /^Field "target"/);
    assert.equal(answer.json.error.details.field, 'target');
  });

  test('accepts a raw body with options in the query string', async () => {
    const webp = await halves(10, 4).webp().toBuffer();
    const answer = await postRaw(webp, 'application/octet-stream', '?scale=2&format=png&mode=fast');
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual(answer.json, {
      images: { image: { format: 'webp', width: 10, height: 4, hasAlpha: false, bytes: webp.length } },
      options: { scale: 2, mode: 'fast' },
      format: 'png',
    });
  });

  test('reports EXIF-oriented dimensions for an orientation-6 JPEG', async () => {
    const rotated = await halves(40, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const answer = await postRaw(rotated);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.images.image.width, 20);
    assert.equal(answer.json.images.image.height, 40);
  });
});

describe('coerceField', () => {
  test('turns numbers and booleans into values but keeps zero-padded codes as text', () => {
    assert.equal(coerceField('4'), 4);
    assert.equal(coerceField('-0.25'), -0.25);
    assert.equal(coerceField('1e3'), 1000);
    assert.equal(coerceField('true'), true);
    assert.equal(coerceField('000000'), '000000');
    assert.equal(coerceField('#fff'), '#fff');
    assert.deepEqual(coerceField('[1,2]'), [1, 2]);
    assert.equal(coerceField('{oops'), '{oops');
  });
});

test('the orientation fixture helper really writes EXIF orientation 6', async () => {
  const rotated = await halves(40, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  assert.equal((await sharp(rotated).metadata()).orientation, 6);
});
