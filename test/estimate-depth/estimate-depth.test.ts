import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { colour } from '../../src/tasks/estimate-depth/colormaps.js';
import { DEPTH_MODELS, depthInputSize } from '../../src/tasks/estimate-depth/models.js';
import { EstimateDepthOptions, estimateDepthTask } from '../../src/tasks/estimate-depth.js';
import { parseOptions } from '../../src/tasks/options.js';
import { postJson, startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { meanDepthModel } from './tiny-depth.js';
import { tinyManager, type ManagerKit } from '../kit/models.js';
import { tempDir } from '../kit/onnx.js';

const [W, H] = [300, 200];
const grey = (x: number) => Math.round((255 * x) / (W - 1));
/** The tiny model's output for a grey value, with Depth Anything's ImageNet normalisation. */
const expected = (v: number) => [0, 1, 2].reduce((s, c) => s + (v / 255 - DEPTH_MODELS['depth-anything-v2-small'].mean[c]!) / DEPTH_MODELS['depth-anything-v2-small'].std[c]!, 0) / 3;

/** A left-to-right grey ramp: "far" on the left, "near" on the right. */
function ramp(): Promise<Buffer> {
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px.fill(grey(x), (y * W + x) * 3, (y * W + x) * 3 + 3);
  return sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
}

describe('estimate-depth', () => {
  let app: TestApp;
  let photo: Buffer;
  before(async () => {
    app = await startTestApp({ tasks: [estimateDepthTask], runner: directRunner({ 'depth-anything-v2-small': meanDepthModel(), 'dpt-large': meanDepthModel() }) });
    photo = await ramp();
  });
  after(() => app.close());

  const call = async (options: Record<string, unknown>) => {
    const res = await postJson(`${app.url}/api/v1/transformers/estimate-depth`, { image: photo.toString('base64'), options });
    return { res, body: (await res.json()) as { result: Record<string, unknown> & { metadata: Record<string, unknown> }; error?: { code: string; message: string } } };
  };
  const decode = async (b64: string) => {
    const buf = Buffer.from(b64, 'base64');
    const meta = await sharp(buf).metadata();
    const { data, info } = await (meta.channels === 1 ? sharp(buf).toColourspace(meta.depth === 'ushort' ? 'grey16' : 'b-w') : sharp(buf)).raw({ depth: meta.depth === 'ushort' ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    const values = meta.depth === 'ushort' ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : data;
    return { meta, info, at: (x: number, y: number) => [...values.subarray((y * info.width + x) * info.channels, (y * info.width + x + 1) * info.channels)] };
  };

  test("the input size follows transformers.js's DPT rule: scale the side that changes less, sides multiples of 14", () => {
    const da = DEPTH_MODELS['depth-anything-v2-small'];
    assert.deepEqual(depthInputSize(da, 1920, 1280), { width: 784, height: 518 }, '777.0 → 55.5 patches, rounded half to even: 56');
    assert.deepEqual(depthInputSize(da, 640, 480), { width: 686, height: 518 });
    assert.deepEqual(depthInputSize(da, 518, 518), { width: 518, height: 518 });
    assert.deepEqual(depthInputSize(DEPTH_MODELS['dpt-large'], 1920, 1280), { width: 384, height: 384 });
  });

  test("output 'array' is the model's output at the photo's size, with its min and max", async () => {
    const { res, body } = await call({ output: 'array' });
    assert.equal(res.status, 200);
    const r = body.result as unknown as { width: number; height: number; min: number; max: number; data: string };
    assert.deepEqual([r.width, r.height], [W, H]);
    const buf = Buffer.from(r.data, 'base64');
    const values = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    assert.equal(values.length, W * H);
    const span = expected(255) - expected(0);
    let worst = 0;
    for (const x of [5, 60, 150, 240, 294]) worst = Math.max(worst, Math.abs(values[100 * W + x]! - expected(grey(x))) / span);
    assert.ok(worst < 0.01, `worst deviation ${worst} of the range`);
    assert.ok(Math.abs(r.min - expected(0)) / span < 0.01 && Math.abs(r.max - expected(255)) / span < 0.01);
    assert.equal(body.result.metadata.model, 'depth-anything-v2-small');
  });

  test('the depth image is grey at the photo\'s size, min..max stretched, near (larger) bright; 16-bit on request', async () => {
    const img = await decode((await call({})).body.result.image as string);
    assert.deepEqual([img.info.width, img.info.height, img.meta.channels], [W, H, 1]);
    assert.ok(img.at(1, 100)[0]! <= 3 && img.at(W - 2, 100)[0]! >= 252, `${img.at(1, 100)} … ${img.at(W - 2, 100)}`);
    assert.ok(Math.abs(img.at(150, 100)[0]! - 128) <= 4, 'the middle of a linear ramp is mid-grey');
    const deep = await decode((await call({ bitDepth: 16 })).body.result.image as string);
    assert.equal(deep.meta.depth, 'ushort');
    assert.ok(deep.at(W - 2, 100)[0]! > 65000 && deep.at(1, 100)[0]! < 600);
  });

  test('colour maps: inferno runs black → orange → pale yellow, turbo blue → green → dark red', async () => {
    const inferno = await decode((await call({ colormap: 'inferno' })).body.result.image as string);
    assert.equal(inferno.meta.channels, 3);
    const [lo, hi] = [inferno.at(0, 100), inferno.at(W - 1, 100)];
    assert.ok(lo.every((v) => v! < 12), `inferno min ${lo}`);
    assert.ok(hi[0]! > 240 && hi[1]! > 240 && hi[2]! > 130 && hi[2]! < 190, `inferno max ${hi}`);
    const turbo = await decode((await call({ colormap: 'turbo' })).body.result.image as string);
    const [t0, t1] = [turbo.at(Math.round(0.1 * (W - 1)), 100), turbo.at(W - 1, 100)];
    assert.ok(t0[2]! > 2 * t0[0]! && t0[2]! > 2 * t0[1]!, `turbo at 10 % is blue: ${t0}`);
    assert.ok(t1[0]! > 3 * t1[1]! && t1[0]! > 3 * t1[2]!, `turbo max is red: ${t1}`);
    const mid = colour('turbo', 0.5);
    assert.ok(mid[1]! > 220 && mid[1]! > mid[0]! && mid[1]! > mid[2]!, `turbo mid is green: ${mid}`);
    const orange = colour('inferno', 0.75);
    assert.ok(orange[0]! > 220 && orange[1]! > 80 && orange[1]! < 160 && orange[2]! < 60, `inferno 0.75 is orange: ${orange}`);
  });

  test('dpt-large runs at 384² and maps back; the short route answers the PNG, or the bare array', async () => {
    const { body } = await call({ model: 'dpt-large', output: 'array' });
    assert.deepEqual([body.result.width, body.result.height], [W, H]);
    const png = await fetch(`${app.url}/v1/estimate-depth`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(photo) });
    assert.equal(png.headers.get('content-type'), 'image/png');
    const arr = await fetch(`${app.url}/v1/estimate-depth?output=array`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(photo) });
    const json = (await arr.json()) as { width: number; data: string };
    assert.equal(json.width, W);
    assert.equal(typeof json.data, 'string');
  });

  test('bad options answer 400 INVALID_OPTIONS', async () => {
    for (const options of [{ bitDepth: 16, colormap: 'turbo' }, { colormap: 'viridis' }, { model: 'midas' }, { bitDepth: 12 }]) {
      const { res, body } = await call(options);
      assert.equal(res.status, 400, JSON.stringify(options));
      assert.equal(body.error?.code, 'INVALID_OPTIONS');
    }
    assert.throws(() => parseOptions(EstimateDepthOptions, { bitDepth: 16, colormap: 'inferno' }), /bitDepth 16 needs colormap gray/);
  });
});

test('without its weights, depth answers 503 MODEL_UNAVAILABLE naming the pull command', async () => {
  const dir = tempDir();
  const kit: ManagerKit = tinyManager(dir, [{ id: 'depth-anything-v2-small', graph: meanDepthModel() }]);
  fs.rmSync(path.join(dir, 'depth-anything-v2-small.onnx'));
  const app = await startTestApp({ tasks: [estimateDepthTask], runner: kit.manager });
  try {
    const res = await postJson(`${app.url}/api/v1/transformers/estimate-depth`, { image: (await ramp()).toString('base64') });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'MODEL_UNAVAILABLE');
    assert.match(body.error.message, /npm run models -- pull depth-anything-v2-small/);
  } finally {
    await app.close();
    await kit.close();
  }
});
