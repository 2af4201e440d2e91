import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { enhanceFaceTask } from '../../src/tasks/enhance-face.js';
import { applyAffine, invertAffine } from '../../src/tasks/face/align.js';
import { FFHQ_512, FFHQ_SIDE, alignFfhq, ffhqTransform, pasteFace, scaledTransform } from '../../src/tasks/face/ffhq.js';
import type { Point } from '../../src/tasks/face/geometry.js';
import { defaultUpscaler } from '../../src/tasks/upscale/models.js';
import { postJson, startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { fixture } from '../kit/fixtures.js';
import { validated } from '../kit/images.js';
import { realModelPath } from '../kit/real-models.js';
import { createHarness, untilStatus } from '../jobs/kit.js';
import { negativeGfpgan, nearestX4, weightedCodeformer } from './tiny-restorers.js';

type Box = { x1: number; y1: number; x2: number; y2: number };
type Body = { result: { image: string; metadata: { faces: { box: Box }[] } & Record<string, unknown> }; error?: { code: string; message: string } };

/** Centroids of the bright blobs, each taken in a window around where one is expected. */
function centroidNear(img: { data: Uint8Array; width: number; height: number }, p: Point, r: number): Point {
  let sx = 0, sy = 0, sw = 0;
  for (let y = Math.max(0, Math.floor(p.y - r)); y <= Math.min(img.height - 1, Math.ceil(p.y + r)); y++) {
    for (let x = Math.max(0, Math.floor(p.x - r)); x <= Math.min(img.width - 1, Math.ceil(p.x + r)); x++) {
      const v = img.data[(y * img.width + x) * 3]!;
      if (v < 40) continue;
      sx += v * x; sy += v * y; sw += v;
    }
  }
  return { x: sx / sw, y: sy / sw };
}

function drawDots(width: number, height: number, dots: readonly Point[], radius: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (const d of dots) {
    for (let y = Math.floor(d.y - radius - 1); y <= Math.ceil(d.y + radius + 1); y++) {
      for (let x = Math.floor(d.x - radius - 1); x <= Math.ceil(d.x + radius + 1); x++) {
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        // Anti-aliased disc: coverage falls off over one pixel, so centroids are sub-pixel exact.
        const cover = Math.max(0, Math.min(1, radius + 0.5 - Math.hypot(x - d.x, y - d.y)));
        data.fill(Math.round(255 * cover), (y * width + x) * 3, (y * width + x) * 3 + 3);
      }
    }
  }
  return data;
}

test('FFHQ alignment: five points warped to the 512 template and the crop pasted back land within 1 px', () => {
  // A face at 0.45 scale, turned 20°, somewhere in a 640×480 photo.
  const angle = (20 * Math.PI) / 180, s = 0.45;
  const place = (p: Point): Point => ({ x: 300 + s * (Math.cos(angle) * (p.x - 256) - Math.sin(angle) * (p.y - 256)), y: 220 + s * (Math.sin(angle) * (p.x - 256) + Math.cos(angle) * (p.y - 256)) });
  const five = FFHQ_512.map(place);
  const photo = { data: drawDots(640, 480, five, 3), width: 640, height: 480 };
  const toCrop = ffhqTransform(five);
  const crop = { data: alignFfhq(photo, toCrop), width: FFHQ_SIDE, height: FFHQ_SIDE };
  for (const t of FFHQ_512) {
    const c = centroidNear(crop, t, 14);
    assert.ok(Math.hypot(c.x - t.x, c.y - t.y) < 1, `template point (${t.x.toFixed(1)}, ${t.y.toFixed(1)}) found at (${c.x.toFixed(2)}, ${c.y.toFixed(2)})`);
  }
  const back = { data: new Uint8Array(640 * 480 * 3), width: 640, height: 480, channels: 3 };
  pasteFace(back, drawDots(FFHQ_SIDE, FFHQ_SIDE, FFHQ_512, 7), toCrop, 1);
  for (const p of five) {
    const c = centroidNear(back, p, 6);
    assert.ok(Math.hypot(c.x - p.x, c.y - p.y) < 1, `pasted back (${p.x.toFixed(1)}, ${p.y.toFixed(1)}) lands at (${c.x.toFixed(2)}, ${c.y.toFixed(2)})`);
  }
  const up = scaledTransform(toCrop, 2);
  const mapped = applyAffine(invertAffine(up), FFHQ_512[0]!);
  assert.ok(Math.hypot(mapped.x - (2 * five[0]!.x + 0.5), mapped.y - (2 * five[0]!.y + 0.5)) < 1e-6, 'the ×2 transform is the same face at twice the size, pixel centres aligned');
});

const patchMean = (img: { data: Uint8Array; width: number }, cx: number, cy: number, r = 4) => {
  let s = 0, n = 0;
  for (let y = cy - r; y <= cy + r; y++) for (let x = cx - r; x <= cx + r; x++) { s += img.data[(y * img.width + x) * 3]!; n++; }
  return s / n;
};

async function rgb(buffer: Buffer) {
  const { data, info } = await sharp(buffer).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

async function realFaceModels() {
  const models: Record<string, Uint8Array> = {};
  for (const id of ['face-detect', 'face-landmark']) models[id] = fs.readFileSync(await realModelPath(id));
  return models;
}

describe('enhance-face on the fixture faces (real detector and landmarks, same-signature restorers)', () => {
  let app: TestApp;
  let bare: TestApp;
  let photo: Buffer;
  let original: Awaited<ReturnType<typeof rgb>>;
  before(async () => {
    const faces = await realFaceModels();
    app = await startTestApp({ tasks: [enhanceFaceTask], runner: directRunner({ ...faces, gfpgan: negativeGfpgan(), codeformer: weightedCodeformer(), [defaultUpscaler('cpu')]: nearestX4() }) });
    bare = await startTestApp({ tasks: [enhanceFaceTask], runner: directRunner(faces) });
    photo = fixture('faces-group-1.jpg');
    original = await rgb(photo);
  });
  after(async () => {
    await app.close();
    await bare.close();
  });
  const call = async (options: Record<string, unknown>, url = app.url) => {
    const res = await postJson(`${url}/api/v1/gfpgan/enhance-face`, { image: photo.toString('base64'), options });
    return { res, body: (await res.json()) as Body };
  };
  const centre = (b: Box) => [Math.round((b.x1 + b.x2) / 2), Math.round((b.y1 + b.y2) / 2)] as const;

  test('gfpgan: every face is replaced by the restorer’s output, pasted where it was; the background is untouched', async () => {
    const { res, body } = await call({});
    assert.equal(res.status, 200, JSON.stringify(body.error));
    const m = body.result.metadata;
    assert.deepEqual([m.model, m.device, m.upscale], ['gfpgan', 'cpu', 1]);
    assert.ok(m.faces.length >= 3);
    const out = await rgb(Buffer.from(body.result.image, 'base64'));
    for (const f of m.faces) {
      const [cx, cy] = centre(f.box);
      const [before, after] = [patchMean(original, cx, cy), patchMean(out, cx, cy)];
      assert.ok(Math.abs(after - (255 - before)) < 8, `face at (${cx}, ${cy}): ${before.toFixed(0)} → ${after.toFixed(0)}, expected its negative`);
    }
    for (const [x, y] of [[5, 5], [original.width - 5, original.height - 5], [original.width - 5, 5]]) {
      const o = (y! * original.width + x!) * 3;
      assert.deepEqual([...out.data.subarray(o, o + 3)], [...original.data.subarray(o, o + 3)]);
    }
  });

  test('strength blends; codeformer gets its fidelity; onlyCenterFace keeps one face', async () => {
    const half = await call({ strength: 0.5 });
    const out = await rgb(Buffer.from(half.body.result.image, 'base64'));
    const [cx, cy] = centre(half.body.result.metadata.faces[0]!.box);
    assert.ok(Math.abs(patchMean(out, cx, cy) - 127.5) < 6, `half way to the negative is mid-grey: ${patchMean(out, cx, cy).toFixed(1)}`);
    const faithful = await call({ model: 'codeformer', fidelity: 0 });
    assert.equal(faithful.body.result.metadata.fidelity, 0);
    assert.ok(Math.abs(patchMean(await rgb(Buffer.from(faithful.body.result.image, 'base64')), cx, cy) - 127.5) < 3, 'weight 0 reached the model');
    const one = await call({ onlyCenterFace: true });
    assert.equal(one.body.result.metadata.faces.length, 1);
  });

  test('upscale 2: the photo is enlarged by the Real-ESRGAN stand-in and the faces pasted at twice their place', async () => {
    const { body } = await call({ upscale: 2 });
    const m = body.result.metadata;
    assert.deepEqual([m.width, m.height], [original.width * 2, original.height * 2]);
    assert.equal(m.upscaler, defaultUpscaler('cpu'));
    const out = await rgb(Buffer.from(body.result.image, 'base64'));
    const [cx, cy] = centre(m.faces[0]!.box);
    assert.ok(Math.abs(patchMean(out, 2 * cx, 2 * cy) - (255 - patchMean(original, cx, cy))) < 10);
  });

  test('without the restorer’s weights: 503 MODEL_UNAVAILABLE naming the pull command; bad options 400', async () => {
    const { res, body } = await call({}, bare.url);
    assert.equal(res.status, 503);
    assert.equal(body.error?.code, 'MODEL_UNAVAILABLE');
    assert.match(body.error!.message, /npm run models -- pull gfpgan/);
    for (const options of [{ upscale: 3 }, { fidelity: -1 }, { model: 'restoreformer' }]) assert.equal((await call(options)).res.status, 400, JSON.stringify(options));
  });
});

test('enhance-face runs as a job and reports progress face by face', async () => {
  const runner = directRunner({ ...(await realFaceModels()), gfpgan: negativeGfpgan() });
  const h = createHarness([enhanceFaceTask], {}, { runner });
  const app = await startTestApp({ tasks: [enhanceFaceTask], runner, deps: { jobs: h.queue } });
  h.queue.start();
  try {
    const res = await postJson(`${app.url}/api/v1/gfpgan/enhance-face`, { image: fixture('faces-group-1.jpg').toString('base64') }, { prefer: 'respond-async' });
    assert.equal(res.status, 202);
    const { result: { jobId } } = (await res.json()) as { result: { jobId: string } };
    const completed = untilStatus(h.queue, jobId, 'completed');
    if (h.queue.get(jobId, 'anonymous').status !== 'completed') await completed;
    const stages = h.queue.eventsAfter(jobId, 'anonymous', 0).events.flatMap((e) => (e.type === 'progress' ? [(e.data as { stage: string }).stage] : []));
    assert.ok(stages.includes('face 1/3') && stages.includes('face 3/3'), stages.join(', '));
  } finally {
    await app.close();
    await h.queue.close();
  }
});

test('a job whose restorer has no weights fails at once, not after every retry: until an operator pulls them each attempt fails alike', async () => {
  const runner = directRunner(await realFaceModels());
  const h = createHarness([enhanceFaceTask], {}, { runner });
  h.queue.start();
  try {
    const { job } = await h.queue.submit({ operation: 'enhance-face', image: await validated(fixture('faces-group-1.jpg')), options: {}, owner: 'anonymous' });
    const failed = untilStatus(h.queue, job.id, 'failed');
    if (h.queue.get(job.id, 'anonymous').status !== 'failed') await failed;
    const view = h.queue.get(job.id, 'anonymous');
    assert.deepEqual([view.attempts, view.error?.code], [1, 'MODEL_UNAVAILABLE']);
  } finally {
    await h.queue.close();
  }
});
