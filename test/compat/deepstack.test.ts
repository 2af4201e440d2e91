import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { openDatabase } from '../../src/db/database.js';
import { FaceGallery } from '../../src/db/face-gallery.js';
import { compatAuth } from '../../src/endpoints/compat/credentials.js';
import { deepStackRoutes, matchConfidence } from '../../src/endpoints/compat/deepstack.js';
import { ConcurrencyGate } from '../../src/middleware/overload.js';
import { startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { tinyCenterNet } from '../detect-objects/tiny-detectors.js';
import { tinyFaceModels } from '../face/tiny-face-models.js';
import { testConfig } from '../../src/config.js';
import { onScale } from '../../src/tasks/face/match.js';

const KEY = 'deepstack-api-key-0123';

/** A photo that is one colour: the tiny embedder's vector follows the crop's colour, so colour is identity here. */
const solid = (r: number, g: number, b: number) => sharp({ create: { width: 320, height: 240, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();

/** DeepStack clients post multipart forms: files plus text fields such as api_key and userid. */
async function post(app: TestApp, path: string, files: Record<string, Buffer>, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, buf] of Object.entries(files)) form.set(name, new Blob([new Uint8Array(buf)], { type: 'image/jpeg' }), `${name}.jpg`);
  for (const [name, value] of Object.entries({ api_key: KEY, ...fields })) form.set(name, value);
  const res = await fetch(`${app.url}/v1/vision${path}`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('DeepStack / CodeProject.AI vision API', () => {
  let app: TestApp;
  let alice: Buffer;
  let bob: Buffer;
  before(async () => {
    const env = { API_KEY: KEY };
    const config = testConfig(env);
    const runner = directRunner({
      ...tinyFaceModels([{ box: [0.3, 0.2, 0.6, 0.7], score: 0.95 }]),
      centernet: tinyCenterNet([[100, 228, 200, 328, 0.9, 16], [300, 100, 400, 300, 0.3, 0]]),
    });
    const gallery = new FaceGallery(openDatabase(':memory:'));
    app = await startTestApp({ env, runner, deps: { selfAuthenticating: [{ path: '/v1/vision', router: deepStackRoutes({ runner, config, gate: new ConcurrencyGate(4, 4), gallery, auth: compatAuth(config) }) }] } });
    [alice, bob] = [await solid(230, 40, 40), await solid(40, 40, 230)];
  });
  after(() => app.close());

  test('face detection answers { success, predictions: [{ confidence, x_min, y_min, x_max, y_max }] }', async () => {
    const { status, body } = await post(app, '/face', { image: alice });
    assert.equal(status, 200);
    assert.equal(body.success, true);
    assert.equal(body.predictions.length, 1);
    const p = body.predictions[0];
    assert.deepEqual(Object.keys(p).sort(), ['confidence', 'x_max', 'x_min', 'y_max', 'y_min']);
    assert.ok(Math.abs(p.x_min - 96) <= 2 && Math.abs(p.y_min - 48) <= 2 && Math.abs(p.x_max - 192) <= 2 && Math.abs(p.y_max - 168) <= 2, JSON.stringify(p));
    assert.ok(p.confidence > 0.9);
  });

  test('register, list, recognize, match and delete, keyed on userid', async () => {
    const registered = await post(app, '/face/register', { image1: alice, image2: alice }, { userid: 'alice' });
    assert.deepEqual([registered.status, registered.body.success, registered.body.message], [200, true, 'face added']);
    assert.deepEqual((await post(app, '/face/list', {})).body.faces, ['alice']);

    const known = await post(app, '/face/recognize', { image: alice });
    assert.equal(known.body.predictions[0].userid, 'alice');
    assert.ok(known.body.predictions[0].confidence >= 0.67);
    assert.deepEqual(Object.keys(known.body.predictions[0]).sort(), ['confidence', 'userid', 'x_max', 'x_min', 'y_max', 'y_min']);
    const stranger = await post(app, '/face/recognize', { image: bob });
    assert.equal(stranger.body.predictions[0].userid, 'unknown');
    assert.equal(stranger.body.predictions[0].confidence, 0);

    const same = await post(app, '/face/match', { image1: alice, image2: alice });
    assert.ok(same.body.similarity > 0.99, JSON.stringify(same.body));
    const different = await post(app, '/face/match', { image1: alice, image2: bob });
    assert.ok(different.body.similarity < 0.67, JSON.stringify(different.body));

    assert.equal((await post(app, '/face/delete', {}, { userid: 'alice' })).body.success, true);
    assert.deepEqual((await post(app, '/face/list', {})).body.faces, []);
  });

  test('object detection answers labels and corners, honouring min_confidence', async () => {
    const white = await solid(255, 255, 255);
    const { body } = await post(app, '/detection', { image: white });
    assert.deepEqual(body.predictions.map((p: { label: string }) => p.label), ['dog']);
    assert.deepEqual(Object.keys(body.predictions[0]).sort(), ['confidence', 'label', 'x_max', 'x_min', 'y_max', 'y_min']);
    const low = await post(app, '/detection', { image: white }, { min_confidence: '0.2' });
    assert.deepEqual(low.body.predictions.map((p: { label: string }) => p.label).sort(), ['dog', 'person']);
  });

  test('errors come as { success: false, error } with the HTTP status: no key, a wrong key, a missing image or userid, a corrupt image', async () => {
    const form = new FormData();
    form.set('image', new Blob([new Uint8Array(alice)]), 'a.jpg');
    const anonymous = await fetch(`${app.url}/v1/vision/face`, { method: 'POST', body: form });
    assert.equal(anonymous.status, 401);
    assert.deepEqual(Object.keys((await anonymous.json()) as object).sort(), ['code', 'error', 'success']);
    assert.equal((await post(app, '/face', { image: alice }, { api_key: 'wrong-key-wrong-key' })).status, 401);
    const noImage = await post(app, '/face', {});
    assert.deepEqual([noImage.status, noImage.body.success, typeof noImage.body.error], [400, false, 'string']);
    assert.equal((await post(app, '/face/register', { image: alice })).status, 400, 'userid is required');
    const corrupt = await post(app, '/face', { image: alice.subarray(0, 200) });
    assert.equal(corrupt.status, 400);
    const header = await fetch(`${app.url}/v1/vision/face`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: form });
    assert.equal(header.status, 200, 'our usual Authorization header works too');
  });
});

test('match confidence: our match threshold lands on DeepStack’s 0.67; 0 and 1 stay put; monotonic', () => {
  assert.equal(matchConfidence(0.4), 0.67);
  assert.equal(matchConfidence(1), 1);
  assert.equal(matchConfidence(0), 0);
  assert.equal(matchConfidence(-0.5), 0);
  for (let c = 0; c < 1; c += 0.05) assert.ok(matchConfidence(c + 0.05) > matchConfidence(c));
  assert.equal(onScale(0.4, 0.5), 0.5, "CompreFace's 0.5 boundary");
});
