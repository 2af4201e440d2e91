import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { testConfig } from '../../src/config.js';
import { rembgRoutes } from '../../src/endpoints/compat/rembg.js';
import { ConcurrencyGate } from '../../src/middleware/overload.js';
import { startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { meanSigmoidModel } from '../kit/onnx.js';

/** Only ISNet is present (mean-of-channels sigmoid): rembg's default u2net falls back to the CPU default, int8. */
async function rembgApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig(env);
  const runner = directRunner({ 'isnet-general': meanSigmoidModel().toBytes(), 'isnet-general-int8': meanSigmoidModel().toBytes() });
  const router = rembgRoutes({ config, runner, gate: new ConcurrencyGate(4, 16) });
  return startTestApp({ tasks: [], runner, env, deps: { routers: [{ path: '/api/remove', router, inference: true }] } });
}

/**
 * A white left half and a black right half. Through ISNet's (x − 128)/256 the tiny model's mask is
 * sigmoid(±0.5): 159 on white, 96 on black.
 */
async function photo(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 20, channels: 3, background: '#000000' } })
    .composite([{ input: { create: { width: 20, height: 20, channels: 3, background: '#ffffff' } }, left: 0, top: 0 }])
    .png().toBuffer();
}

async function post(app: TestApp, fields: Record<string, string> = {}, query = ''): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(await photo())], { type: 'image/png' }), 'in.png');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return fetch(`${app.url}/api/remove${query}`, { method: 'POST', body: form });
}

/** Pixels as the file stores them (sharp would widen a grey PNG to sRGB on decode). */
async function pixels(res: Response) {
  const buf = Buffer.from(await res.arrayBuffer());
  const grey = (await sharp(buf).metadata()).channels === 1;
  const { data, info } = await (grey ? sharp(buf).toColourspace('b-w') : sharp(buf)).raw().toBuffer({ resolveWithObject: true });
  return { data, info, at: (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x + 1) * info.channels)] };
}

async function errorCode(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: body.error.code, message: body.error.message };
}

describe('rembg-compatible POST /api/remove', () => {
  let app: TestApp;
  before(async () => {
    app = await rembgApp();
  });
  after(() => app.close());

  test('a multipart file comes back as an RGBA PNG cut-out; rembg\'s default u2net is served by isnet-general-int8, and says so', async () => {
    const res = await post(app);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('x-model-fallback'), 'u2net -> isnet-general-int8');
    const { info, at } = await pixels(res);
    assert.deepEqual([info.width, info.height, info.channels], [40, 20, 4]);
    assert.ok(Math.abs(at(5, 10)[3]! - 159) <= 2, 'the white half gets the mask\'s 159');
    assert.ok(Math.abs(at(35, 10)[3]! - 96) <= 2, 'the black half its 96');
  });

  test('model=isnet-general runs as asked; an unknown rembg model names the available ones', async () => {
    const ok = await post(app, { model: 'isnet-general' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-model-fallback'), null);
    const bad = await errorCode(await post(app, { model: 'sam' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'INVALID_OPTIONS');
    assert.match(bad.message, /model "sam" is not available here; available: u2net, u2netp, isnet-general-use, isnet-general, isnet-general-int8/);
  });

  test('om=true answers the grey mask; om with ppm=true a binary one (rembg\'s opening, blur and cut at 127)', async () => {
    const mask = await pixels(await post(app, { om: 'true' }));
    assert.equal(mask.info.channels, 1);
    assert.ok(Math.abs(mask.at(5, 10)[0]! - 159) <= 2 && Math.abs(mask.at(35, 10)[0]! - 96) <= 2);
    const binary = await pixels(await post(app, { om: 'true', ppm: 'true' }));
    assert.equal(binary.info.channels, 1);
    assert.ok([...binary.data].every((v) => v === 0 || v === 255), 'only 0 and 255');
    assert.equal(binary.at(5, 10)[0], 255, '159 is above the cut at 127');
    assert.equal(binary.at(35, 10)[0], 0, '96 below it');
  });

  test('bgc (a query parameter, as in rembg) fills the background: opaque, or over a translucent colour', async () => {
    const opaque = await pixels(await post(app, {}, '?bgc=255,0,0,255'));
    assert.equal(opaque.info.channels, 3);
    const dark = opaque.at(35, 10);
    assert.ok(Math.abs(dark[0]! - 159) <= 3 && dark[1]! <= 2, `black at alpha 96/255 over red: ${dark}`);
    const translucent = await pixels(await post(app, {}, '?bgc=0,0,255,128'));
    assert.equal(translucent.info.channels, 4);
    const a = translucent.at(35, 10)[3]!;
    assert.ok(Math.abs(a - 176) <= 3, `alpha 0.376 over 0.502 is 0.690 (176), got ${a}`);
  });

  test('parameters sent as query parameters work on POST too; a=true runs the matting; out-of-range values are refused', async () => {
    const viaQuery = await pixels(await post(app, {}, '?om=true&model=isnet-general'));
    assert.equal(viaQuery.info.channels, 1);
    // The tiny model's mask (159 / 96) is neither sure subject (> af) nor sure background (< ab): all unknown, nothing to pin it, so 0.5.
    const matted = await pixels(await post(app, { a: 'true', om: 'true', af: '200', ab: '50', ae: '3' }));
    assert.ok([5, 35].every((x) => Math.abs(matted.at(x, 10)[0]! - 128) <= 1), `matte ${matted.at(5, 10)} ${matted.at(35, 10)}`);
    assert.equal((await errorCode(await post(app, { af: '300' }))).code, 'INVALID_OPTIONS');
    assert.equal((await errorCode(await post(app, {}, '?bgc=red'))).code, 'INVALID_OPTIONS');
    const noFile = await fetch(`${app.url}/api/remove`, { method: 'POST', body: new FormData() });
    assert.equal(noFile.status, 400);
  });
});

describe('rembg-compatible GET /api/remove?url=', () => {
  let origin: http.Server;
  let base: string;
  before(async () => {
    const png = await photo();
    origin = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/photo.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      if (u.pathname === '/hop') {
        const n = Number(u.searchParams.get('n'));
        return res.writeHead(302, { location: n > 0 ? `/hop?n=${n - 1}` : '/photo.png' }).end();
      }
      if (u.pathname === '/stall') return undefined;
      if (u.pathname === '/big') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(300_000));
      return res.writeHead(404).end();
    });
    origin.listen(0, '127.0.0.1');
    await new Promise((r) => origin.once('listening', r));
    base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  after(() => {
    origin.closeAllConnections();
    origin.close();
  });

  test('refuses loopback and private targets by default, naming URL_FETCH_ALLOW_PRIVATE', async () => {
    const app = await rembgApp();
    try {
      for (const target of [`${base}/photo.png`, 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.5/x.png', 'http://[::1]/x.png']) {
        const e = await errorCode(await fetch(`${app.url}/api/remove?url=${encodeURIComponent(target)}`));
        assert.equal(e.status, 400, target);
        assert.match(e.message, /loopback, private or link-local.*URL_FETCH_ALLOW_PRIVATE=true/);
      }
      assert.equal((await errorCode(await fetch(`${app.url}/api/remove?url=file:///etc/passwd`))).code, 'INVALID_REQUEST');
      assert.equal((await errorCode(await fetch(`${app.url}/api/remove`))).code, 'INVALID_REQUEST');
    } finally {
      await app.close();
    }
  });

  test('with private targets allowed: fetches, follows up to 5 redirects, refuses a 6th, caps the size, times out', async () => {
    const app = await rembgApp({ URL_FETCH_ALLOW_PRIVATE: 'true', MAX_FILE_SIZE: '200kb', URL_FETCH_TIMEOUT: '500ms' });
    try {
      const get = (path: string, q = '') => fetch(`${app.url}/api/remove?url=${encodeURIComponent(base + path)}${q}`);
      const ok = await get('/photo.png', '&om=true');
      assert.equal(ok.status, 200);
      assert.equal((await pixels(ok)).info.channels, 1);
      assert.equal((await get('/hop?n=4')).status, 200, 'five redirects');
      const tooMany = await errorCode(await get('/hop?n=5'));
      assert.deepEqual([tooMany.status, tooMany.code], [502, 'URL_FETCH_FAILED']);
      assert.match(tooMany.message, /more than 5 redirects/);
      assert.deepEqual(Object.values(await errorCode(await get('/big'))).slice(0, 2), [413, 'PAYLOAD_TOO_LARGE']);
      assert.deepEqual(Object.values(await errorCode(await get('/missing'))).slice(0, 2), [502, 'URL_FETCH_FAILED']);
      assert.deepEqual(Object.values(await errorCode(await get('/stall'))).slice(0, 2), [504, 'TIMEOUT']);
      assert.equal((await get('/photo.png')).status, 200, 'still serving');
    } finally {
      await app.close();
    }
  });
});
