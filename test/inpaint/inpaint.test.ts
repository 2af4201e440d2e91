import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { loadManifest } from '../../src/models/manifest.js';
import { inpaintTask } from '../../src/tasks/inpaint.js';
import { postJson, startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { manifestManager } from '../kit/models.js';
import { tempDir } from '../kit/onnx.js';
import { createHarness, untilStatus } from '../jobs/kit.js';
import { holeRms, maskPngOf, objectLeft, png, rgbOf, stripesScene, textureScene, type Scene } from './scenes.js';
import { flatLama, maskEchoMigan } from './tiny-inpainters.js';

type Body = { result: { image: string; metadata: Record<string, unknown> }; error?: { code: string; message: string; details?: Record<string, unknown> } };
type Region = { x: number; y: number; width: number; height: number; workWidth: number; workHeight: number };

function sameOutside(photo: Uint8Array, out: Uint8Array, hole: Uint8Array): number {
  let differ = 0;
  for (let i = 0; i < hole.length; i++) if (!hole[i] && (out[i * 3] !== photo[i * 3] || out[i * 3 + 1] !== photo[i * 3 + 1] || out[i * 3 + 2] !== photo[i * 3 + 2])) differ++;
  return differ;
}

const holeOfBox = (s: { width: number; height: number }, b: { x: number; y: number; width: number; height: number }) => {
  const hole = new Uint8Array(s.width * s.height);
  for (let y = b.y; y < b.y + b.height; y++) hole.fill(1, y * s.width + b.x, y * s.width + b.x + b.width);
  return hole;
};

const models = () => ({ lama: flatLama(1), migan: maskEchoMigan() });

describe('inpaint', () => {
  let app: TestApp;
  let texture: Scene;
  before(async () => {
    app = await startTestApp({ tasks: [inpaintTask], runner: directRunner(models()) });
    texture = textureScene();
  });
  after(() => app.close());
  const call = async (body: Record<string, unknown>) => {
    const res = await postJson(`${app.url}/api/v1/lama/inpaint`, body);
    return { res, body: (await res.json()) as Body };
  };

  test('multipart image + a half-size mask on the short route: the object is gone and every pixel outside the mask is the original', async () => {
    const form = new FormData();
    form.set('image', new Blob([new Uint8Array(await png(texture.photo, texture.width, texture.height))], { type: 'image/png' }), 'photo.png');
    form.set('mask', new Blob([new Uint8Array(await maskPngOf(texture.hole, texture.width, texture.height, { width: 110, height: 90 }))], { type: 'image/png' }), 'mask.png');
    const res = await fetch(`${app.url}/v1/inpaint`, { method: 'POST', body: form });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const out = await rgbOf(Buffer.from(await res.arrayBuffer()));
    assert.equal(objectLeft(texture, out), 0, 'no red left where the object was');
    // The mask was drawn at half size, so its stretched edge differs from the scene's by a pixel.
    const stretched = await rgbOf(await maskPngOf(texture.hole, texture.width, texture.height, { width: 110, height: 90 }).then((m) => sharp(m).resize(texture.width, texture.height, { kernel: 'linear' }).png().toBuffer()));
    const hole = Uint8Array.from({ length: texture.width * texture.height }, (_, i) => (stretched[i * 3]! > 127 ? 1 : 0));
    assert.equal(sameOutside(texture.photo, out, hole), 0);
  });

  test('JSON with boxes (the shape detect-objects returns): patchmatch in a crop around the box, metadata names model, device, regions', async () => {
    const stripes = stripesScene(300, 200);
    const s = { ...stripes, photo: stripes.truth };
    const box = { x: 120, y: 70, width: 50, height: 50 };
    const { res, body } = await call({ image: Buffer.from(await png(s.photo, s.width, s.height)).toString('base64'), options: { boxes: [box], cropMargin: 40 } });
    assert.equal(res.status, 200, JSON.stringify(body.error));
    const m = body.result.metadata;
    assert.deepEqual([m.model, m.device, m.strategy, m.maskedPixels], ['patchmatch', 'cpu', 'crop', 2500]);
    assert.deepEqual(m.regions, [{ x: 80, y: 30, width: 130, height: 130, workWidth: 130, workHeight: 130 }]);
    const out = await rgbOf(Buffer.from(body.result.image, 'base64'));
    const boxScene = { ...s, hole: holeOfBox(s, box) };
    assert.ok(holeRms(boxScene, out) < 10, `the stripes run on through the box: rms ${holeRms(boxScene, out).toFixed(1)}`);
    assert.equal(sameOutside(s.photo, out, boxScene.hole), 0);
  });

  test('strokes: telea closes a scratch drawn as a brush stroke', async () => {
    const s = stripesScene(200, 120);
    const photo = new Uint8Array(s.truth);
    const hole = new Uint8Array(s.width * s.height);
    for (let x = 20; x < 180; x++) for (let y = 58; y <= 61; y++) { hole[y * s.width + x] = 1; photo.set([255, 255, 255], (y * s.width + x) * 3); }
    const { body } = await call({ image: Buffer.from(await png(photo, s.width, s.height)).toString('base64'), options: { model: 'telea', strokes: [{ points: [{ x: 20, y: 60 }, { x: 180, y: 60 }], width: 6 }] } });
    const out = await rgbOf(Buffer.from(body.result.image, 'base64'));
    let white = 0;
    for (let i = 0; i < hole.length; i++) if (hole[i] && out[i * 3]! > 250 && out[i * 3 + 2]! > 250) white++;
    assert.equal(white, 0, 'no scratch pixel left white');
    assert.equal(body.result.metadata.model, 'telea');
  });

  test('lama and migan run their contracts (LaMa at 512² in either output scale; MI-GAN’s uint8 pipeline with 255 = keep): only hole pixels take the output, the rest is untouched', async () => {
    const s = textureScene(260, 200);
    const box = { x: 100, y: 60, width: 60, height: 50 };
    const hole = holeOfBox(s, box);
    const image = Buffer.from(await png(s.photo, s.width, s.height)).toString('base64');
    const carve = await startTestApp({ tasks: [inpaintTask], runner: directRunner({ lama: flatLama(255) }) });
    try {
      for (const [url, model] of [[app.url, 'lama'], [carve.url, 'lama'], [app.url, 'migan']] as const) {
        const res = await postJson(`${url}/api/v1/lama/inpaint`, { image, options: { model, boxes: [box] } });
        const body = (await res.json()) as Body;
        assert.equal(res.status, 200, JSON.stringify(body.error));
        assert.deepEqual([body.result.metadata.model, body.result.metadata.device], [model, 'cpu']);
        assert.equal(typeof body.result.metadata.inferenceMs, 'number');
        const out = await rgbOf(Buffer.from(body.result.image, 'base64'));
        // The stand-ins fill with 0.25 grey (lama) or echo the mask, 0 in the hole (migan: 255 = keep).
        const fill = model === 'lama' ? 64 : 0;
        for (let i = 0; i < hole.length; i++) if (hole[i]) assert.ok(Math.abs(out[i * 3]! - fill) <= 1, `${model} at ${i}: ${out[i * 3]}`);
        assert.equal(sameOutside(s.photo, out, hole), 0, model);
      }
    } finally {
      await carve.close();
    }
  });

  test('a large image is worked on in crops, and a region beyond resizeLimit downscaled: memory follows the mask, not the photo', async () => {
    const big = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 90, g: 120, b: 60 } } }).jpeg().toBuffer();
    const small = await call({ image: big.toString('base64'), options: { boxes: [{ x: 1000, y: 1000, width: 40, height: 30 }] } });
    assert.equal(small.res.status, 200);
    assert.deepEqual(small.body.result.metadata.regions, [{ x: 872, y: 872, width: 296, height: 286, workWidth: 296, workHeight: 286 }]);
    const s = stripesScene(600, 400);
    const wide = { x: 50, y: 50, width: 500, height: 300 };
    const { body } = await call({ image: Buffer.from(await png(s.photo, s.width, s.height)).toString('base64'), options: { boxes: [wide], strategy: 'resize', resizeLimit: 200 } });
    const [region] = body.result.metadata.regions as Region[];
    assert.deepEqual([region!.width, region!.height, region!.workWidth, region!.workHeight], [600, 400, 200, 133]);
    const out = await rgbOf(Buffer.from(body.result.image, 'base64'));
    assert.equal(sameOutside(s.photo, out, holeOfBox(s, wide)), 0, 'the fill was scaled back; the rest is full resolution and untouched');
  });

  test('an empty mask returns the image unchanged; bad requests answer 400 with stable codes', async () => {
    const s = stripesScene(64, 48);
    const image = Buffer.from(await png(s.photo, s.width, s.height)).toString('base64');
    const empty = await call({ image, mask: (await maskPngOf(new Uint8Array(64 * 48), 64, 48)).toString('base64') });
    assert.equal(empty.body.result.metadata.maskedPixels, 0);
    assert.equal(sameOutside(s.photo, await rgbOf(Buffer.from(empty.body.result.image, 'base64')), new Uint8Array(64 * 48)), 0);
    const none = await call({ image });
    assert.equal(none.res.status, 400);
    assert.equal(none.body.error?.code, 'INVALID_REQUEST');
    assert.match(none.body.error!.message, /"mask" image .* options\.boxes or options\.strokes/);
    const corrupt = await call({ image, mask: (await maskPngOf(new Uint8Array(64 * 48), 64, 48)).subarray(0, 40).toString('base64') });
    assert.equal(corrupt.res.status, 400);
    assert.equal(corrupt.body.error?.details?.field, 'mask');
    for (const options of [{ patchSize: 6, boxes: [{ x: 1, y: 1, width: 4, height: 4 }] }, { boxes: [{ x: 1, y: 1, width: -4, height: 4 }] }, { model: 'dall-e' }, { strokes: [{ points: [] }] }]) {
      const bad = await call({ image, options });
      assert.equal(bad.res.status, 400, JSON.stringify(options));
      assert.equal(bad.body.error?.code, 'INVALID_OPTIONS');
    }
  });

  test('/health answers while a patchmatch fill runs (it runs in a worker thread)', async () => {
    const s = textureScene(900, 700);
    const pending = call({ image: Buffer.from(await png(s.photo, s.width, s.height)).toString('base64'), options: { boxes: [{ x: 100, y: 100, width: 600, height: 450 }], resizeLimit: 900 } }).then(() => 'inpaint');
    const health = fetch(`${app.url}/health`).then((r) => (r.ok ? 'health' : `health ${r.status}`));
    assert.equal(await Promise.race([pending, health]), 'health');
    assert.equal(await pending, 'inpaint');
  });
});

test('inpaint runs as a job with its mask stored beside the image', async () => {
  const runner = directRunner(models());
  const h = createHarness([inpaintTask], {}, { runner });
  const app = await startTestApp({ tasks: [inpaintTask], runner, deps: { jobs: h.queue } });
  h.queue.start();
  try {
    const s = stripesScene(160, 120);
    const res = await postJson(`${app.url}/api/v1/lama/inpaint`, {
      image: Buffer.from(await png(s.photo, s.width, s.height)).toString('base64'),
      mask: (await maskPngOf(s.hole, s.width, s.height)).toString('base64'),
    }, { prefer: 'respond-async' });
    assert.equal(res.status, 202);
    const { result: { jobId } } = (await res.json()) as { result: { jobId: string } };
    const completed = untilStatus(h.queue, jobId, 'completed');
    if (h.queue.get(jobId, 'anonymous').status !== 'completed') await completed;
    const out = await rgbOf((await h.queue.result(jobId, 'anonymous')).body);
    assert.equal(objectLeft(s, out), 0);
    assert.ok(holeRms(s, out) < 10, `rms ${holeRms(s, out).toFixed(1)}`);
  } finally {
    await app.close();
    await h.queue.close();
  }
});

test('without weights: lama is served by patchmatch and says so; MODEL_FALLBACK=strict answers 503 naming the pull command', async () => {
  const shipped = loadManifest();
  const manifest = { ...shipped, models: shipped.models.filter((m) => m.family === 'inpaint') };
  const kit = manifestManager(tempDir(), manifest, { cpuBudgetMB: 4096 });
  const lenient = await startTestApp({ tasks: [inpaintTask], runner: kit.manager });
  const strict = await startTestApp({ tasks: [inpaintTask], runner: kit.manager, env: { MODEL_FALLBACK: 'strict' } });
  try {
    const s = stripesScene(64, 48);
    const body = { image: Buffer.from(await png(s.photo, s.width, s.height)).toString('base64'), options: { model: 'lama', boxes: [{ x: 20, y: 20, width: 10, height: 10 }] } };
    const served = await postJson(`${lenient.url}/api/v1/lama/inpaint`, body);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('x-model-fallback'), 'lama -> patchmatch');
    const meta = ((await served.json()) as Body).result.metadata;
    assert.deepEqual([meta.model, meta.requestedModel], ['patchmatch', 'lama']);
    const refused = await postJson(`${strict.url}/api/v1/lama/inpaint`, body);
    assert.equal(refused.status, 503);
    assert.match(((await refused.json()) as Body).error!.message, /npm run models -- pull lama/);
    const migan = await postJson(`${strict.url}/api/v1/lama/inpaint`, { ...body, options: { ...body.options, model: 'migan' } });
    assert.equal(migan.status, 503);
    assert.match(((await migan.json()) as Body).error!.message, /npm run models -- pull migan/);
  } finally {
    await lenient.close();
    await strict.close();
    await kit.close();
  }
});
