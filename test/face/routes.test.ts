import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { ConcurrencyGate } from '../../src/middleware/overload.js';
import type { ModelRunner } from '../../src/models/runner.js';
import { directRunner } from '../kit/direct-runner.js';
import { call, startFaceApp } from './face-app.js';
import { tinyFaceModels, type TinyBox } from './tiny-face-models.js';

const ONE_FACE: TinyBox[] = [{ box: [0.25, 0.25, 0.5, 0.58], score: 0.97 }];

async function photo(r: number, g: number, b: number): Promise<string> {
  const png = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r, g, b } } }).png().toBuffer();
  return png.toString('base64');
}

describe('face routes on tiny models', () => {
  let app: Awaited<ReturnType<typeof startFaceApp>>;
  before(async () => {
    app = await startFaceApp(directRunner(tinyFaceModels(ONE_FACE)));
  });
  after(() => app.close());

  test('detect returns each face with the requested plugins and their timings', async () => {
    const { status, body } = await call(`${app.url}/detect`, { image: await photo(200, 150, 120), options: { plugins: ['age', 'gender', 'embedding'] } });
    assert.equal(status, 200);
    const [face] = body.result.faces;
    assert.deepEqual(face.box, { x1: 80, y1: 60, x2: 160, y2: 139.2 });
    assert.equal(face.embedding.vector.length, 512);
    assert.equal(typeof face.age.years, 'number');
    assert.equal(typeof face.gender.ms, 'number');
    assert.equal(face.pose, undefined);
    assert.ok(body.result.timings.detect.inferenceMs >= 0);
    assert.deepEqual(body.result.image, { width: 320, height: 240 });
  });

  test('detect takes a multipart upload with plugins as a comma-separated field', async () => {
    const form = new FormData();
    form.append('image', new Blob([Buffer.from(await photo(200, 150, 120), 'base64')], { type: 'image/png' }), 'face.png');
    form.append('plugins', 'pose,expression');
    const res = await fetch(`${app.url}/detect`, { method: 'POST', body: form });
    const body = (await res.json()) as { result: { faces: Record<string, unknown>[] } };
    assert.equal(res.status, 200);
    assert.ok(body.result.faces[0]!.pose && body.result.faces[0]!.expression);
    assert.equal(body.result.faces[0]!.age, undefined);
  });

  test('analyze runs every attribute plugin by default, but not the embedding', async () => {
    const { status, body } = await call(`${app.url}/analyze`, { image: await photo(200, 150, 120) });
    assert.equal(status, 200);
    const [face] = body.result.faces;
    for (const key of ['landmarks', 'antispoof', 'age', 'gender', 'pose', 'expression']) assert.ok(face[key], key);
    assert.equal(face.embedding, undefined);
  });

  test('detect answers 400 INVALID_OPTIONS with zod issues for an unknown plugin', async () => {
    const { status, body } = await call(`${app.url}/detect`, { image: await photo(1, 2, 3), options: { plugins: ['horoscope'] } });
    assert.equal(status, 400);
    assert.equal(body.error.code, 'INVALID_OPTIONS');
    assert.equal(body.error.details.issues[0].path, 'plugins.0');
  });

  test('verify matches an image with itself and reports the threshold used', async () => {
    const image = await photo(200, 150, 120);
    const { status, body } = await call(`${app.url}/verify`, { source: image, target: image, options: { threshold: 0.5 } });
    assert.equal(status, 200);
    assert.equal(body.result.match, true);
    assert.equal(body.result.threshold, 0.5);
    assert.ok(body.result.similarity > 0.999);
  });

  test('verify without a target image answers 400 naming the field', async () => {
    const { status, body } = await call(`${app.url}/verify`, { source: await photo(1, 2, 3) });
    assert.equal(status, 400);
    assert.equal(body.error.details.field, 'target');
  });

  test('enrol then recognise returns the enrolled subject first', async () => {
    const owner = 'enrol-owner';
    const red = (await call(`${app.url}/subjects`, { name: 'Red' }, { owner })).body.result.subject;
    const blue = (await call(`${app.url}/subjects`, { name: 'Blue' }, { owner })).body.result.subject;
    const enrolled = await call(`${app.url}/subjects/${red.id}/faces`, { image: await photo(220, 40, 40) }, { owner });
    assert.equal(enrolled.status, 201);
    await call(`${app.url}/subjects/${blue.id}/faces`, { image: await photo(40, 40, 220) }, { owner });
    const { body } = await call(`${app.url}/recognize`, { image: await photo(215, 45, 40) }, { owner });
    const matches = body.result.faces[0].matches;
    assert.equal(matches[0].subjectId, red.id);
    assert.equal(matches[0].name, 'Red');
    assert.ok(matches[0].similarity > matches[1].similarity);
    assert.equal(typeof body.result.timings.search.ms, 'number');
  });

  test("one owner cannot see, enrol into or delete another owner's subject", async () => {
    const mine = (await call(`${app.url}/subjects`, { name: 'Private' }, { owner: 'alice' })).body.result.subject;
    await call(`${app.url}/subjects/${mine.id}/faces`, { image: await photo(10, 200, 10) }, { owner: 'alice' });
    const list = await call(`${app.url}/subjects`, undefined, { owner: 'mallory' });
    assert.equal(list.body.result.total, 0);
    assert.equal((await call(`${app.url}/subjects/${mine.id}`, undefined, { owner: 'mallory' })).status, 404);
    assert.equal((await call(`${app.url}/subjects/${mine.id}/faces`, { image: await photo(10, 200, 10) }, { owner: 'mallory' })).status, 404);
    assert.equal((await call(`${app.url}/subjects/${mine.id}`, undefined, { method: 'DELETE', owner: 'mallory' })).status, 404);
    const theirs = await call(`${app.url}/recognize`, { image: await photo(10, 200, 10) }, { owner: 'mallory' });
    assert.deepEqual(theirs.body.result.faces[0].matches, []);
    const ours = await call(`${app.url}/subjects/${mine.id}`, undefined, { owner: 'alice' });
    assert.equal(ours.body.result.subject.faceCount, 1);
  });

  test('deleting an enrolled face and then its subject', async () => {
    const owner = 'deleter';
    const s = (await call(`${app.url}/subjects`, { name: 'Temp' }, { owner })).body.result.subject;
    const face = (await call(`${app.url}/subjects/${s.id}/faces`, { image: await photo(90, 90, 90) }, { owner })).body.result.face;
    assert.equal((await call(`${app.url}/subjects/${s.id}/faces/${face.id}`, undefined, { method: 'DELETE', owner })).status, 200);
    assert.equal((await call(`${app.url}/subjects/${s.id}/faces/${face.id}`, undefined, { method: 'DELETE', owner })).status, 404);
    assert.equal((await call(`${app.url}/subjects/${s.id}`, undefined, { method: 'DELETE', owner })).status, 200);
    assert.equal((await call(`${app.url}/subjects`, undefined, { owner })).body.result.total, 0);
  });

  test('creating a subject without a name answers 400 INVALID_REQUEST', async () => {
    const { status, body } = await call(`${app.url}/subjects`, { metadata: {} });
    assert.equal(status, 400);
    assert.equal(body.error.code, 'INVALID_REQUEST');
    assert.equal(body.error.details.issues[0].path, 'name');
  });
});

describe('face routes when no face is found', () => {
  test('enrolment answers 422 NO_FACE when the image has no face', async () => {
    const app = await startFaceApp(directRunner(tinyFaceModels([])));
    try {
      const s = (await call(`${app.url}/subjects`, { name: 'Nobody' })).body.result.subject;
      const { status, body } = await call(`${app.url}/subjects/${s.id}/faces`, { image: await photo(5, 5, 5) });
      assert.equal(status, 422);
      assert.equal(body.error.code, 'NO_FACE');
    } finally {
      await app.close();
    }
  });
});

describe('face routes and the overload gate', () => {
  /** A runner whose runs wait until `open()`: model work that takes as long as the test wants. */
  function heldRunner(): { runner: ModelRunner; open: () => void; started: Promise<void> } {
    const inner = directRunner(tinyFaceModels(ONE_FACE));
    let open!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    const first = new Promise<void>((resolve) => { started = resolve; });
    return { runner: { run: async (id, feeds, opts) => { started(); await gate; return inner.run(id, feeds, opts); } }, open, started: first };
  }

  test('a request whose model work fills the gate makes the next one answer 503 OVERLOADED', async () => {
    const held = heldRunner();
    const app = await startFaceApp(held.runner, new ConcurrencyGate(1, 0));
    try {
      const image = await photo(200, 150, 120);
      const first = call(`${app.url}/verify`, { source: image, target: image });
      await held.started;
      const second = await call(`${app.url}/recognize`, { image });
      assert.equal(second.status, 503);
      assert.equal(second.body.error.code, 'OVERLOADED');
      held.open();
      assert.equal((await first).status, 200);
    } finally {
      await app.close();
    }
  });

  test('a slow upload holds no slot: other requests run while its body is still arriving', async () => {
    const app = await startFaceApp(directRunner(tinyFaceModels(ONE_FACE)), new ConcurrencyGate(1, 0));
    const url = new URL(`${app.url}/verify`);
    const slow = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } });
    slow.on('error', () => undefined);
    try {
      slow.write('{"source": "');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const other = await call(`${app.url}/detect`, { image: await photo(200, 150, 120) });
      assert.equal(other.status, 200);
    } finally {
      slow.destroy();
      await app.close();
    }
  });
});
