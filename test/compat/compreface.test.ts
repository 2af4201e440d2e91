import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { CompreFace } from '@exadel/compreface-js-sdk';
import { testConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { FaceGallery } from '../../src/db/face-gallery.js';
import { compreFaceRoutes } from '../../src/endpoints/compat/compreface.js';
import { ConcurrencyGate } from '../../src/middleware/overload.js';
import { startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { tempDir } from '../kit/onnx.js';
import { tinyFaceModels } from '../face/tiny-face-models.js';

const KEY = 'compreface-api-key-0123';
/** One-colour photos: the tiny embedder's vector follows the crop's colour, so colour is identity here. */
const solid = (r: number, g: number, b: number) => sharp({ create: { width: 320, height: 240, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();

type Json = Record<string, any>;

/**
 * The SDK's typings call it subjectFunctions(); its code names it getSubjects(). Each call gets a
 * fresh object: its rename and delete append the subject to a URL they share with the others.
 */
const subjectsOf = (recognition: ReturnType<CompreFace['initFaceRecognitionService']>) =>
  (recognition as unknown as { getSubjects(): ReturnType<typeof recognition.subjectFunctions> }).getSubjects();

describe("CompreFace's REST API, driven by its official JavaScript SDK", () => {
  let app: TestApp;
  let core: CompreFace;
  let alice: string;
  let bobPath: string;
  let bob: string;
  before(async () => {
    const env = { API_KEY: KEY };
    const config = testConfig(env);
    const runner = directRunner(tinyFaceModels([{ box: [0.3, 0.2, 0.6, 0.7], score: 0.95 }]));
    const gallery = new FaceGallery(openDatabase(':memory:'));
    app = await startTestApp({ env, runner, deps: { routers: [{ path: '/api/v1', router: compreFaceRoutes({ runner, config, gate: new ConcurrencyGate(4, 4), gallery }), inference: true }] } });
    const url = new URL(app.url);
    core = new CompreFace(`http://${url.hostname}`, Number(url.port));
    alice = (await solid(230, 40, 40)).toString('base64');
    bob = (await solid(40, 40, 230)).toString('base64');
    // The SDK uploads a relative path as a multipart file and a base64 string as JSON.
    const file = path.join(tempDir(), 'bob.jpg');
    fs.writeFileSync(file, Buffer.from(bob, 'base64'));
    bobPath = `./${path.relative(process.cwd(), file)}`;
  });
  after(() => app.close());

  test('enrol (JSON base64 and a multipart file), list, recognize with plugins, verify against an image_id', async () => {
    const recognition = core.initFaceRecognitionService(KEY);
    const collection = recognition.getFaceCollection();
    const added = await collection.add<Json>(alice, 'alice');
    assert.equal(added.subject, 'alice');
    assert.match(added.image_id, /^[0-9a-f-]{36}$/);
    assert.equal((await collection.add<Json>(bobPath, 'bob')).subject, 'bob');
    const listed = await collection.list<Json>();
    assert.deepEqual(listed.faces.map((f: Json) => f.subject).sort(), ['alice', 'bob']);
    assert.deepEqual([listed.page_number, listed.page_size, listed.total_elements, listed.total_pages], [0, 20, 2, 1]);
    assert.deepEqual((await subjectsOf(recognition).list<Json>()).subjects.sort(), ['alice', 'bob']);

    const found = await recognition.recognize<Json>(alice, { limit: 0, prediction_count: 2, face_plugins: 'age,gender,landmarks,calculator,mask', status: true } as never);
    const face = found.result[0];
    assert.deepEqual(face.subjects.map((s: Json) => s.subject), ['alice', 'bob']);
    assert.ok(face.subjects[0].similarity > 0.99 && face.subjects[1].similarity < 0.5, JSON.stringify(face.subjects));
    assert.deepEqual(Object.keys(face.box).sort(), ['probability', 'x_max', 'x_min', 'y_max', 'y_min']);
    assert.deepEqual(Object.keys(face.age).sort(), ['high', 'low', 'probability']);
    assert.ok(['male', 'female'].includes(face.gender.value) && face.gender.probability >= 0.5);
    assert.equal(face.landmarks.length, 5);
    assert.equal(face.embedding.length, 512);
    assert.equal(face.mask, undefined, 'an unknown plugin is ignored, as CompreFace does');
    assert.deepEqual(Object.keys(face.execution_time).sort(), ['age', 'calculator', 'gender', 'landmarks']);
    assert.deepEqual(Object.keys(found.plugins_versions).sort(), ['age', 'calculator', 'detector', 'gender', 'landmarks']);

    // A fresh collection object per verify: the SDK appends the image_id to a URL its methods share.
    const verified = await recognition.getFaceCollection().verify<Json>(alice, added.image_id);
    assert.ok(verified.result[0].similarity > 0.99);
    assert.ok((await recognition.getFaceCollection().verify<Json>(bob, added.image_id)).result[0].similarity < 0.5);
  });

  test('detect and verify through the detection and verification services', async () => {
    const detected = await core.initFaceDetectionService(KEY).detect<Json>(alice, { face_plugins: 'landmarks' } as never);
    assert.equal(detected.result.length, 1);
    assert.ok(Math.abs(detected.result[0].box.x_min - 96) <= 2 && detected.result[0].box.probability > 0.9);
    assert.equal(detected.result[0].landmarks.length, 5);
    const verification = core.initFaceVerificationService(KEY);
    const same = await verification.verify<Json>(alice, alice, {} as never);
    assert.ok(same.result[0].face_matches[0].similarity > 0.99);
    assert.deepEqual(Object.keys(same.result[0]).sort(), ['face_matches', 'source_image_face']);
    const different = await verification.verify<Json>(alice, bob, {} as never);
    assert.ok(different.result[0].face_matches[0].similarity < 0.5);
  });

  test('subjects: rename merges into an existing name, delete one, delete the images of one, delete all', async () => {
    const recognition = core.initFaceRecognitionService(KEY);
    const subjects = () => subjectsOf(recognition);
    assert.deepEqual(await subjects().add<Json>('carol'), { subject: 'carol' });
    assert.deepEqual(await subjects().rename<Json>('carol', 'alice'), { updated: true });
    assert.ok(!(await subjects().list<Json>()).subjects.includes('carol'));
    const bobs = (await recognition.getFaceCollection().list<Json>()).faces.filter((f: Json) => f.subject === 'bob');
    assert.deepEqual(await recognition.getFaceCollection().delete_all_subject<Json>('bob'), { deleted: bobs.length });
    assert.deepEqual(await subjects().delete<Json>('alice'), { subject: 'alice' });
    assert.deepEqual((await subjects().list<Json>()).subjects, ['bob']);
    assert.deepEqual(await subjects().deleteAll<Json>(), { deleted: 1 });
  });

  test("errors in CompreFace's shape: no face is code 28, a wrong key 401, an unknown subject 404", async () => {
    const blank = (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#fff' } }).jpeg().toBuffer()).toString('base64');
    const post = (p: string, body: unknown, key = KEY) => fetch(`${app.url}/api/v1${p}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(body) });
    const noFaceApp = await startTestApp({
      env: { API_KEY: KEY },
      runner: directRunner(tinyFaceModels([])),
      deps: { routers: [{ path: '/api/v1', router: compreFaceRoutes({ runner: directRunner(tinyFaceModels([])), config: testConfig({ API_KEY: KEY }), gate: new ConcurrencyGate(4, 4), gallery: new FaceGallery(openDatabase(':memory:')) }), inference: true }] },
    });
    try {
      const res = await fetch(`${noFaceApp.url}/api/v1/recognition/recognize`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ file: blank }) });
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { message: 'No face is found in the given image', code: 28 });
      const crop = await fetch(`${noFaceApp.url}/api/v1/recognition/recognize?detect_faces=false`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ file: blank }) });
      const cropped = (await crop.json()) as Json;
      assert.equal(crop.status, 200, 'detect_faces=false takes the image as the face');
      assert.deepEqual(cropped.result[0].box, { probability: 1, x_max: 64, y_max: 64, x_min: 0, y_min: 0 });
    } finally {
      await noFaceApp.close();
    }
    assert.equal((await post('/recognition/recognize', { file: alice }, 'wrong-key-wrong-key')).status, 401);
    const missing = await fetch(`${app.url}/api/v1/recognition/subjects/nobody`, { method: 'DELETE', headers: { 'x-api-key': KEY } });
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys((await missing.json()) as object).sort(), ['code', 'message']);
    assert.equal((await post('/recognition/faces', { file: alice })).status, 400, 'subject is required');
  });

  test('the embeddings variants recognise and verify vectors directly', async () => {
    const recognition = core.initFaceRecognitionService(KEY);
    const added = await recognition.getFaceCollection().add<Json>(alice, 'alice');
    const found = await recognition.recognize<Json>(alice, { face_plugins: 'calculator' } as never);
    const vector = found.result[0].embedding as number[];
    const post = (p: string, body: unknown) => fetch(`${app.url}/api/v1${p}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Json>);
    const byVector = await post('/recognition/embeddings/recognize', { embeddings: [vector] });
    assert.equal(byVector.result[0].similarities[0].subject, 'alice');
    const verified = await post('/verification/embeddings/verify', { source: vector, targets: [vector] });
    assert.ok(verified.result[0].similarity > 0.99);
    assert.ok(added.image_id);
  });
});
