import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { loadManifest } from '../../src/models/manifest.js';
import { transferStyleTask } from '../../src/tasks/transfer-style.js';
import { STYLE_PRESETS, presetModelId } from '../../src/tasks/transfer-style/models.js';
import { postJson, startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { manifestManager } from '../kit/models.js';
import { tempDir } from '../kit/onnx.js';
import { createHarness, startJobsApp, untilStatus } from '../jobs/kit.js';
import { invertModel, invertTask } from '../kit/app.js';
import { blockDecoder, blockMeanEncoder, negativePresetModel } from './tiny-style-models.js';

type Body = { result: { image: string; format: string; metadata: Record<string, unknown> }; error?: { code: string; message: string; details?: Record<string, unknown> } };

/** Structure for the content: a grey gradient with a dark bar; the style: flat saturated halves. */
async function contentPng(width = 300, height = 200): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = x > width / 3 && x < width / 2 ? 30 : Math.round(60 + (150 * y) / height);
      px.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

async function stylePng(): Promise<Buffer> {
  return sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 220, g: 60, b: 40 } } })
    .composite([{ input: { create: { width: 60, height: 80, channels: 3, background: { r: 240, g: 180, b: 30 } } }, left: 60, top: 0 }])
    .png()
    .toBuffer();
}

async function pixels(b64OrBuf: string | Buffer) {
  const buf = typeof b64OrBuf === 'string' ? Buffer.from(b64OrBuf, 'base64') : b64OrBuf;
  const { data, info } = await sharp(buf).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const mean = [0, 1, 2].map((c) => {
    let s = 0;
    for (let i = c; i < data.length; i += 3) s += data[i]!;
    return s / (data.length / 3);
  });
  return { data, info, mean, at: (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)] };
}

const models = () => ({
  [presetModelId('mosaic')]: negativePresetModel(),
  'adain-vgg-encoder': blockMeanEncoder(),
  'adain-decoder': blockDecoder(),
});

describe('transfer-style', () => {
  let app: TestApp;
  let content: Buffer;
  let style: Buffer;
  before(async () => {
    app = await startTestApp({ tasks: [transferStyleTask], runner: directRunner(models()) });
    [content, style] = [await contentPng(), await stylePng()];
  });
  after(() => app.close());

  const call = async (body: Record<string, unknown>) => {
    const res = await postJson(`${app.url}/api/v1/transformers/transfer-style`, body);
    return { res, body: (await res.json()) as Body };
  };

  test("color (the default): multipart content + style on the short route give the content's size in the style's colours", async () => {
    const form = new FormData();
    form.set('content', new Blob([new Uint8Array(content)], { type: 'image/png' }), 'content.png');
    form.set('style', new Blob([new Uint8Array(style)], { type: 'image/png' }), 'style.png');
    const res = await fetch(`${app.url}/v1/transfer-style`, { method: 'POST', body: form });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const out = await pixels(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual([out.info.width, out.info.height], [300, 200]);
    const [r, g, b] = out.mean;
    assert.ok(r! > g! + 40 && g! > b!, `the grey content turned warm: mean ${out.mean.map(Math.round)}`);
    assert.ok(out.at(120, 100)[0]! < out.at(20, 100)[0]!, 'the dark bar is still darker than the gradient beside it');
  });

  test('JSON with "image" + "style" works too; the metadata names the method, no model, and the device', async () => {
    const { res, body } = await call({ image: content.toString('base64'), style: style.toString('base64'), options: { strength: 0.5, histogram: true, outputFormat: 'webp' } });
    assert.equal(res.status, 200);
    assert.equal(body.result.format, 'webp');
    assert.deepEqual([body.result.metadata.method, body.result.metadata.model, body.result.metadata.device, body.result.metadata.strength], ['color', null, 'cpu', 0.5]);
  });

  test('preset: the fast-neural-style model runs over 224² tiles and comes back at the content size; strength blends', async () => {
    const { body } = await call({ image: content.toString('base64'), options: { preset: 'mosaic' } });
    assert.equal(body.result.metadata.model, 'fast-neural-style-mosaic');
    assert.ok((body.result.metadata.tiles as number) >= 2, `tiles ${body.result.metadata.tiles}`);
    const out = await pixels(body.result.image);
    const src = await pixels(content);
    assert.deepEqual([out.info.width, out.info.height], [300, 200]);
    for (const [x, y] of [[5, 5], [120, 100], [150, 150], [294, 195]] as const) {
      assert.ok(Math.abs(out.at(x, y)[0]! - (255 - src.at(x, y)[0]!)) <= 3, `(${x},${y}): ${out.at(x, y)} vs the negative of ${src.at(x, y)}`);
    }
    const half = await pixels((await call({ image: content.toString('base64'), options: { preset: 'mosaic', strength: 0.5 } })).body.result.image);
    assert.ok(Math.abs(half.at(20, 100)[0]! - 128) <= 2, `half way between a value and its negative is mid-grey: ${half.at(20, 100)}`);
    const raw = await fetch(`${app.url}/v1/transfer-style?preset=mosaic&outputFormat=jpeg`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(content) });
    assert.equal(raw.headers.get('content-type'), 'image/jpeg', 'a raw body is the content image; the style comes from the preset');
  });

  test('neural (AdaIN): the content keeps its layout and takes the style’s feature statistics; large content is tiled on whole-image statistics', async () => {
    const styleMean = (await pixels(style)).mean;
    for (const [options, tiled] of [[{ method: 'neural' }, false], [{ method: 'neural', tileSize: 256 }, true]] as const) {
      const { body } = await call({ content: content.toString('base64'), style: style.toString('base64'), options });
      assert.equal(body.result.metadata.model, 'adain-vgg-encoder,adain-decoder');
      assert.equal((body.result.metadata.tiles as number) > 1, tiled);
      const out = await pixels(body.result.image);
      out.mean.forEach((m, c) => assert.ok(Math.abs(m - styleMean[c]!) < 6, `${JSON.stringify(options)} channel ${c}: mean ${m.toFixed(1)} vs the style's ${styleMean[c]!.toFixed(1)}`));
      assert.ok(out.at(120, 100)[0]! < out.at(20, 100)[0]!, 'the dark bar stays darker');
    }
    const none = await pixels((await call({ content: content.toString('base64'), style: style.toString('base64'), options: { method: 'neural', strength: 0 } })).body.result.image);
    const src = await pixels(content);
    none.mean.forEach((m, c) => assert.ok(Math.abs(m - src.mean[c]!) < 3, `strength 0 keeps the content's colours: ${m} vs ${src.mean[c]}`));
  });

  test('the wrong images for the method answer 400 INVALID_REQUEST naming the field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ image: content.toString('base64') }, /needs a style image/],
      [{ image: content.toString('base64'), style: style.toString('base64'), options: { preset: 'mosaic' } }, /preset brings its own style/],
      [{ style: style.toString('base64') }, /no image: send it as "content" or "image"/],
      [{ image: content.toString('base64'), content: content.toString('base64'), style: style.toString('base64') }, /not both/],
    ];
    for (const [body, message] of cases) {
      const { res, body: out } = await call(body);
      assert.equal(res.status, 400, JSON.stringify(Object.keys(body)));
      assert.equal(out.error?.code, 'INVALID_REQUEST');
      assert.match(out.error!.message, message);
    }
  });

  test('a corrupt style image answers 400 naming "style"; bad options answer 400 INVALID_OPTIONS', async () => {
    const { res, body } = await call({ image: content.toString('base64'), style: style.subarray(0, 60).toString('base64') });
    assert.equal(res.status, 400);
    assert.equal(body.error?.details?.field, 'style');
    for (const options of [{ preset: 'mosaic', method: 'neural' }, { method: 'neural', histogram: true }, { preset: 'starry-night' }, { strength: 2 }]) {
      const bad = await call({ image: content.toString('base64'), style: style.toString('base64'), options });
      assert.equal(bad.res.status, 400, JSON.stringify(options));
      assert.equal(bad.body.error?.code, 'INVALID_OPTIONS');
    }
  });
});

test('style transfer runs as a job: the style image is stored beside the content and the result is the restyled image', async () => {
  const runner = directRunner(models());
  const h = createHarness([transferStyleTask], {}, { runner });
  const app = await startTestApp({ tasks: [transferStyleTask], runner, deps: { jobs: h.queue } });
  h.queue.start();
  try {
    const res = await postJson(`${app.url}/api/v1/transformers/transfer-style`, { content: (await contentPng()).toString('base64'), style: (await stylePng()).toString('base64') }, { prefer: 'respond-async' });
    assert.equal(res.status, 202);
    const { result: { jobId } } = (await res.json()) as { result: { jobId: string } };
    const completed = untilStatus(h.queue, jobId, 'completed');
    if (h.queue.get(jobId, 'anonymous').status !== 'completed') await completed;
    const out = await pixels((await h.queue.result(jobId, 'anonymous')).body);
    assert.ok(out.mean[0]! > out.mean[2]! + 40, `the job used the style image: mean ${out.mean.map(Math.round)}`);
  } finally {
    await app.close();
    await h.queue.close();
  }
});

test('the manifest lists every preset and both AdaIN parts with their contracts; AdaIN is an operator export', () => {
  const byId = new Map(loadManifest().models.map((m) => [m.id, m]));
  for (const preset of STYLE_PRESETS) {
    const spec = byId.get(presetModelId(preset));
    assert.equal(spec?.inputs[0]?.name, 'input1');
    assert.deepEqual(spec?.inputs[0]?.shape, [1, 3, 224, 224]);
    assert.equal(spec?.outputs[0]?.name, 'output1');
  }
  for (const id of ['adain-vgg-encoder', 'adain-decoder']) {
    const source = byId.get(id)?.source;
    assert.equal(source?.kind, 'local');
  }
});

test('without weights: a preset answers 503 naming the pull command, neural names the AdaIN export to place in MODEL_DIR', async () => {
  const shipped = loadManifest();
  const manifest = { ...shipped, models: shipped.models.filter((m) => m.family === 'style') };
  const kit = manifestManager(tempDir(), manifest);
  const app = await startTestApp({ tasks: [transferStyleTask], runner: kit.manager });
  try {
    const [content, style] = [(await contentPng()).toString('base64'), (await stylePng()).toString('base64')];
    const preset = await postJson(`${app.url}/api/v1/transformers/transfer-style`, { image: content, options: { preset: 'candy' } });
    assert.equal(preset.status, 503);
    assert.match(((await preset.json()) as Body).error!.message, /npm run models -- pull fast-neural-style-candy/);
    const neural = await postJson(`${app.url}/api/v1/transformers/transfer-style`, { content, style, options: { method: 'neural' } });
    assert.equal(neural.status, 503);
    const { error } = (await neural.json()) as Body;
    assert.equal(error?.code, 'MODEL_UNAVAILABLE');
    assert.match(error!.message, /no public download: export .*pytorch-AdaIN.* Place it in MODEL_DIR as adain-vgg-encoder\.onnx/);
  } finally {
    await app.close();
    await kit.close();
  }
});

test('POST /api/v1/jobs takes the style image beside "image", as multipart or JSON; a task without one refuses it', async () => {
  const runner = directRunner({ ...models(), 'test-invert': invertModel() });
  const h = await startJobsApp(createHarness([transferStyleTask, invertTask()], {}, { runner }));
  h.queue.start();
  try {
    const [content, style] = [await contentPng(), await stylePng()];
    const form = new FormData();
    form.set('operation', 'transfer-style');
    form.set('image', new Blob([new Uint8Array(content)], { type: 'image/png' }), 'c.png');
    form.set('style', new Blob([new Uint8Array(style)], { type: 'image/png' }), 's.png');
    const submitted = [
      await fetch(h.url, { method: 'POST', body: form }),
      await postJson(h.url, { operation: 'transfer-style', image: content.toString('base64'), style: style.toString('base64'), options: { strength: 1 } }),
    ];
    for (const res of submitted) {
      assert.equal(res.status, 202);
      const { result: { jobId } } = (await res.json()) as { result: { jobId: string } };
      const completed = untilStatus(h.queue, jobId, 'completed');
      if (h.queue.get(jobId, 'anonymous').status !== 'completed') await completed;
      const out = await pixels((await h.queue.result(jobId, 'anonymous')).body);
      assert.ok(out.mean[0]! > out.mean[2]! + 40, `restyled: mean ${out.mean.map(Math.round)}`);
    }
    const wrong = new FormData();
    wrong.set('operation', 'test-invert');
    wrong.set('image', new Blob([new Uint8Array(content)], { type: 'image/png' }), 'c.png');
    wrong.set('style', new Blob([new Uint8Array(style)], { type: 'image/png' }), 's.png');
    const refused = await fetch(h.url, { method: 'POST', body: wrong });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as Body).error!.message, /takes no "style" image/);
  } finally {
    await h.close();
  }
});
