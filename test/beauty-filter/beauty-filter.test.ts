import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { beautyFilterTask } from '../../src/tasks/beauty-filter.js';
import { faceFeatures, faceWidth, skinMask } from '../../src/tasks/beauty-filter/skin-mask.js';
import { similarity } from '../../src/tasks/face/embed.js';
import { iou, type Point } from '../../src/tasks/face/geometry.js';
import { analyzeFaces, type AnalyzedFace } from '../../src/tasks/face/pipeline.js';
import { decodeRgb } from '../../src/tasks/face/raster.js';
import { postJson, startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { fixture } from '../kit/fixtures.js';
import { validated } from '../kit/images.js';
import { realModelPath } from '../kit/real-models.js';

type Body = { result: { image: string; metadata: Record<string, unknown> }; error?: { code: string; message: string } };

async function realFaceRunner() {
  const models: Record<string, Uint8Array> = {};
  for (const id of ['face-detect', 'face-landmark', 'face-embed']) models[id] = fs.readFileSync(await realModelPath(id));
  return directRunner(models);
}

async function rgb(buffer: Buffer) {
  const { data, info } = await sharp(buffer).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

function insidePoly(poly: readonly Point[], x: number, y: number): boolean {
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i]!, b = poly[j]!;
    if ((a.y > y) !== (b.y > y) && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) hit = !hit;
  }
  return hit;
}

/** Energy of the grey image's 3×3 Laplacian over the pixels where the skin mask is full. */
function detailEnergy(img: { data: Uint8Array; width: number }, roi: { x: number; y: number; width: number; height: number }, mask: Float32Array): number {
  const g = (x: number, y: number) => { const o = (y * img.width + x) * 3; return 0.299 * img.data[o]! + 0.587 * img.data[o + 1]! + 0.114 * img.data[o + 2]!; };
  let sum = 0, n = 0;
  for (let y = 1; y < roi.height - 1; y++) {
    for (let x = 1; x < roi.width - 1; x++) {
      if (mask[y * roi.width + x]! < 0.999) continue;
      const X = roi.x + x, Y = roi.y + y;
      const lap = 4 * g(X, Y) - g(X - 1, Y) - g(X + 1, Y) - g(X, Y - 1) - g(X, Y + 1);
      sum += lap * lap;
      n++;
    }
  }
  return sum / n;
}

describe('beauty filter on the fixture faces (real face weights)', () => {
  let app: TestApp;
  let runner: Awaited<ReturnType<typeof realFaceRunner>>;
  let photo: Buffer;
  let faces: AnalyzedFace[];
  let result: Body;
  before(async () => {
    runner = await realFaceRunner();
    app = await startTestApp({ tasks: [beautyFilterTask], runner });
    photo = fixture('faces-group-1.jpg');
    const { img } = await decodeRgb(await validated(photo));
    faces = (await analyzeFaces(runner, img, { detector: 'ultraface', plugins: ['landmarks', 'embedding'], iouThreshold: 0.4, limit: 20 })).faces;
    const res = await postJson(`${app.url}/api/v1/gfpgan/beauty-filter`, { image: photo.toString('base64'), options: { strength: 0.5 } });
    result = (await res.json()) as Body;
    assert.equal(res.status, 200, JSON.stringify(result.error));
  });
  after(() => app.close());

  test('every face is smoothed: fine detail inside the skin mask drops by at least 40 % at strength 0.5', async () => {
    const [before, out] = [await rgb(photo), await rgb(Buffer.from(result.result.image, 'base64'))];
    const meta = result.result.metadata as { faces: { skinPixels: number }[]; model: null; device: string };
    assert.equal(meta.faces.length, faces.length);
    assert.ok(faces.length >= 3);
    assert.equal(meta.model, null);
    for (const face of faces) {
      const pts = face.landmarks!.points;
      const fw = faceWidth(pts);
      const roi = { x: Math.round(face.box.x1), y: Math.round(face.box.y1), width: Math.round(face.box.x2 - face.box.x1), height: Math.round(face.box.y2 - face.box.y1) };
      const mask = skinMask(pts, roi);
      const [e0, e1] = [detailEnergy(before, roi, mask), detailEnergy(out, roi, mask)];
      assert.ok(e1 < 0.6 * e0, `face ${fw.toFixed(0)} px wide: detail ${e0.toFixed(1)} → ${e1.toFixed(1)}`);
    }
  });

  test('eyes and lips come back pixel-identical', async () => {
    const [before, out] = [await rgb(photo), await rgb(Buffer.from(result.result.image, 'base64'))];
    let checked = 0;
    for (const face of faces) {
      const f = faceFeatures(face.landmarks!.points);
      for (const poly of [...f.eyes, f.lips]) {
        const xs = poly.map((p) => p.x), ys = poly.map((p) => p.y);
        for (let y = Math.floor(Math.min(...ys)); y <= Math.ceil(Math.max(...ys)); y++) {
          for (let x = Math.floor(Math.min(...xs)); x <= Math.ceil(Math.max(...xs)); x++) {
            if (!insidePoly(poly, x + 0.5, y + 0.5)) continue;
            const o = (y * before.width + x) * 3;
            assert.deepEqual([...out.data.subarray(o, o + 3)], [...before.data.subarray(o, o + 3)], `(${x},${y})`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 300, `${checked} eye and lip pixels checked`);
  });

  test('identity is kept: each retouched face still matches its original with similarity ≥ 0.9', async () => {
    const { img } = await decodeRgb(await validated(Buffer.from(result.result.image, 'base64')));
    const after = (await analyzeFaces(runner, img, { detector: 'ultraface', plugins: ['landmarks', 'embedding'], iouThreshold: 0.4, limit: 20 })).faces;
    for (const face of faces) {
      const twin = after.find((f) => iou(f.box, face.box) > 0.5);
      assert.ok(twin, 'the face is still found');
      const sim = similarity(face.embedding!.vector, twin.embedding!.vector);
      assert.ok(sim >= 0.9, `similarity ${sim.toFixed(3)}`);
    }
  });

  test('strength 0 returns the photo unchanged; restore without weights answers 503 naming the pull command', async () => {
    const res = await postJson(`${app.url}/api/v1/gfpgan/beauty-filter`, { image: photo.toString('base64'), options: { strength: 0, outputFormat: 'png' } });
    const body = (await res.json()) as Body;
    const [a, b] = [await rgb(photo), await rgb(Buffer.from(body.result.image, 'base64'))];
    assert.deepEqual(Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)), 0);
    const restore = await postJson(`${app.url}/api/v1/gfpgan/beauty-filter`, { image: photo.toString('base64'), options: { restore: true } });
    assert.equal(restore.status, 503);
    const err = ((await restore.json()) as Body).error!;
    assert.equal(err.code, 'MODEL_UNAVAILABLE');
    assert.match(err.message, /npm run models -- pull gfpgan/);
    const bad = await postJson(`${app.url}/api/v1/gfpgan/beauty-filter`, { image: photo.toString('base64'), options: { strength: 1.5 } });
    assert.equal(bad.status, 400);
  });
});
