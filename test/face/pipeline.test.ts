import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { similarity } from '../../src/tasks/face/embed.js';
import { FACE_MODELS, runPerFace } from '../../src/tasks/face/models.js';
import { FACE_PLUGINS, analyzeFaces, modelsFor, toOriginalPixels } from '../../src/tasks/face/pipeline.js';
import { decodeRgb } from '../../src/tasks/face/raster.js';
import { directRunner } from '../kit/direct-runner.js';
import { validated } from '../kit/images.js';
import { tinyEmbedder, tinyFaceModels, type TinyBox } from './tiny-face-models.js';

/** 640×480: the 320×240 detector input is exactly half, so boxes map ×2. */
async function twoFacePhoto(): Promise<Buffer> {
  const patch = (r: number, g: number, b: number) => ({ create: { width: 160, height: 160, channels: 3 as const, background: { r, g, b } } });
  return sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .composite([
      { input: patch(220, 180, 150), left: 80, top: 100 },
      { input: patch(60, 120, 200), left: 400, top: 200 },
    ])
    .png()
    .toBuffer();
}

const FACES: TinyBox[] = [
  { box: [40 / 320, 50 / 240, 120 / 320, 130 / 240], score: 0.95 },
  { box: [200 / 320, 100 / 240, 280 / 320, 180 / 240], score: 0.9 },
  // a duplicate of the first, which NMS removes
  { box: [41 / 320, 51 / 240, 121 / 320, 131 / 240], score: 0.85 },
  // under the default threshold
  { box: [0, 0, 0.1, 0.1], score: 0.3 },
];

const OPTS = { detector: 'ultraface' as const, iouThreshold: 0.4, limit: 20 };

describe('face pipeline on tiny models', () => {
  test('finds the faces over the threshold once each, boxes in original pixels', async () => {
    const runner = directRunner(tinyFaceModels(FACES));
    const { img } = await decodeRgb(await validated(await twoFacePhoto()));
    const { faces } = await analyzeFaces(runner, img, { ...OPTS, plugins: [] });
    assert.deepEqual(faces.map((f) => f.score), [0.95, 0.9]);
    const b = faces[0]!.box;
    for (const [got, want] of [[b.x1, 80], [b.y1, 100], [b.x2, 240], [b.y2, 260]] as const) {
      assert.ok(Math.abs(got - want) < 0.5, `box edge ${got} vs ${want}`);
    }
    assert.deepEqual(runner.calls, ['face-detect']);
  });

  test('a detection in the letterbox padding neither fails the request nor takes the limit slot', async () => {
    // A 120×240 photo fills the middle 120 of the 320-wide input: x < 100/320 is padding.
    const padding = { box: [0.05, 0.2, 0.25, 0.5] as [number, number, number, number], score: 0.99 };
    const face = { box: [140 / 320, 60 / 240, 180 / 320, 120 / 240] as [number, number, number, number], score: 0.9 };
    const runner = directRunner(tinyFaceModels([padding, face]));
    const photo = await sharp({ create: { width: 120, height: 240, channels: 3, background: { r: 120, g: 110, b: 100 } } }).png().toBuffer();
    const { img } = await decodeRgb(await validated(photo));
    const { faces } = await analyzeFaces(runner, img, { ...OPTS, limit: 1, plugins: ['embedding'] });
    assert.equal(faces.length, 1);
    assert.equal(faces[0]!.score, 0.9);
    assert.equal(faces[0]!.embedding?.vector.length, 512);
  });

  test('runs every plugin once per image, all faces in one batch, with decoded results', async () => {
    const runner = directRunner(tinyFaceModels(FACES));
    const { img } = await decodeRgb(await validated(await twoFacePhoto()));
    const { faces, timings } = await analyzeFaces(runner, img, { ...OPTS, plugins: [...FACE_PLUGINS] });
    assert.equal(faces.length, 2);
    const count = (id: string) => runner.calls.filter((c) => c === id).length;
    for (const id of ['face-landmark', 'face-embed', 'face-antispoof', 'face-age', 'face-gender', 'face-pose', 'face-expression']) {
      assert.equal(count(id), 1, id);
    }
    const f = faces[0]!;
    assert.equal(f.landmarks?.points.length, 68);
    assert.equal(f.landmarks?.fivePoints.length, 5);
    assert.equal(f.embedding?.vector.length, 512);
    assert.ok(Math.abs(similarity(f.embedding!.vector, f.embedding!.vector) - 1) < 1e-5, 'embedding is L2-normalised');
    assert.equal(f.antispoof?.label, 'real');
    assert.ok(Math.abs(f.age!.years - 56.1) < 0.05, `age ${f.age?.years}`); // (1/3 + 2/9) · 101
    assert.equal(f.gender?.label, 'male');
    assert.deepEqual([f.pose?.yaw, f.pose?.pitch, f.pose?.roll], [0, 0, 0]);
    assert.equal(f.expression?.label, 'happy');
    assert.ok(typeof f.age?.ms === 'number' && f.age.ms >= 0);
    for (const stage of ['detect', ...FACE_PLUGINS] as const) assert.ok(timings[stage], `timing for ${stage}`);
  });

  test('landmarks land inside the face box they came from', async () => {
    const runner = directRunner(tinyFaceModels(FACES));
    const { img } = await decodeRgb(await validated(await twoFacePhoto()));
    const { faces } = await analyzeFaces(runner, img, { ...OPTS, plugins: ['landmarks'] });
    for (const f of faces) {
      for (const p of f.landmarks!.fivePoints) {
        assert.ok(p.x > f.box.x1 && p.x < f.box.x2 && p.y > f.box.y1 && p.y < f.box.y2, JSON.stringify({ p, box: f.box }));
      }
    }
  });

  test('two differently coloured faces get different embeddings', async () => {
    const runner = directRunner(tinyFaceModels(FACES));
    const { img } = await decodeRgb(await validated(await twoFacePhoto()));
    const { faces } = await analyzeFaces(runner, img, { ...OPTS, plugins: ['embedding'] });
    assert.ok(similarity(faces[0]!.embedding!.vector, faces[1]!.embedding!.vector) < 0.99);
  });

  test('largestOnly runs the plugins on the biggest face alone', async () => {
    const runner = directRunner(tinyFaceModels(FACES));
    const { img } = await decodeRgb(await validated(await twoFacePhoto()));
    const { faces } = await analyzeFaces(runner, img, { ...OPTS, plugins: ['embedding'], largestOnly: true });
    assert.equal(faces.length, 1);
    assert.equal(runner.calls.filter((c) => c === 'face-embed').length, 1);
  });

  test('an image decoded smaller than the original reports boxes in original pixels', async () => {
    const { img, scale } = await decodeRgb(await validated(await twoFacePhoto()), 320);
    assert.equal(scale, 2);
    const runner = directRunner(tinyFaceModels(FACES));
    const { faces } = await analyzeFaces(runner, img, { ...OPTS, plugins: ['landmarks'] });
    const [face] = toOriginalPixels(faces, scale);
    assert.ok(Math.abs(face!.box.x1 - 80) < 1 && Math.abs(face!.box.y2 - 260) < 1, JSON.stringify(face!.box));
    assert.ok(face!.landmarks!.points[30]!.x > 80);
  });

  test('stops before the plugins when the request is aborted', async () => {
    const runner = directRunner(tinyFaceModels(FACES));
    const { img } = await decodeRgb(await validated(await twoFacePhoto()));
    const controller = new AbortController();
    controller.abort(new Error('client went away'));
    await assert.rejects(analyzeFaces(runner, img, { ...OPTS, plugins: ['age'] }, { signal: controller.signal }), /client went away/);
    assert.ok(!runner.calls.includes('face-age'));
  });

  test('lists the models a request needs', () => {
    assert.deepEqual(modelsFor({ detector: 'ultraface', plugins: ['embedding', 'age'] }).sort(), ['face-age', 'face-detect', 'face-embed', 'face-landmark']);
    assert.deepEqual(modelsFor({ detector: 'blazeface', plugins: [] }), ['face-detect-blazeface']);
  });
});

describe('per-face batching', () => {
  test('a model with a symbolic batch dim takes several faces per run, split back per face', async () => {
    const runner = directRunner({ 'face-embed': tinyEmbedder() });
    const model = { ...FACE_MODELS.embed, maxBatch: 4 };
    const inputs = [0.1, 0.5, -0.3, 0.9, 0.2, -0.7].map((v) => new Float32Array(3 * 112 * 112).fill(v));
    const fill = (i: number, out: Float32Array, offset: number) => out.set(inputs[i]!, offset);
    const batched = await runPerFace(runner, model, inputs.length, fill);
    assert.equal(runner.calls.length, 2);
    const single = await runPerFace(directRunner({ 'face-embed': tinyEmbedder() }), { ...FACE_MODELS.embed, maxBatch: 1 }, inputs.length, fill);
    assert.equal(batched.perItem.length, 6);
    batched.perItem.forEach((o, i) => {
      const a = o.output!.data as Float32Array;
      const b = single.perItem[i]!.output!.data as Float32Array;
      assert.equal(a.length, 512);
      assert.ok(a.every((v, j) => Math.abs(v - b[j]!) < 1e-5), `face ${i} differs between batched and single runs`);
    });
  });
});
