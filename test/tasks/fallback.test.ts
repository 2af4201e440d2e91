import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import sharp from 'sharp';
import { testConfig } from '../../src/config.js';
import type { ModelRunner } from '../../src/models/runner.js';
import { detectObjectsTask } from '../../src/tasks/detect-objects.js';
import { faceDetectTask } from '../../src/tasks/face-detect.js';
import { chooseModel } from '../../src/tasks/fallback.js';
import { parseOptions } from '../../src/tasks/options.js';
import { removeBackgroundTask } from '../../src/tasks/remove-background.js';
import type { TaskContext, TaskDefinition } from '../../src/tasks/types.js';
import { upscaleTask } from '../../src/tasks/upscale.js';
import { postJson, startTestApp, type TestApp } from '../kit/app.js';
import { tinyManager, type ManagerKit } from '../kit/models.js';
import { meanSigmoidModel, tempDir } from '../kit/onnx.js';
import { createHarness, untilStatus } from '../jobs/kit.js';
import { validated } from '../kit/images.js';

function ctxWith(present: string[], env: Record<string, string> = {}): TaskContext {
  const runner: ModelRunner = {
    available: (id) => present.includes(id),
    run: () => Promise.reject(new Error('not run in these tests')),
  };
  return { runner, config: testConfig(env), logger: pino({ level: 'silent' }), signal: new AbortController().signal, onProgress: () => undefined, owner: 'test' };
}

function choose(task: TaskDefinition, raw: Record<string, unknown>, present: string[], env: Record<string, string> = {}) {
  return chooseModel(task, parseOptions(task.options, raw), ctxWith(present, env));
}

describe('MODEL_FALLBACK: a model without weights is served by its family default', () => {
  test('every task family falls back to its default when the asked model is absent and the default is present', () => {
    const cases: [TaskDefinition, Record<string, unknown>, string[], string, string][] = [
      [removeBackgroundTask, { model: 'rmbg-1.4' }, ['isnet-general-int8'], 'rmbg-1.4', 'isnet-general-int8'],
      [upscaleTask, { model: 'realesrgan-x4plus' }, ['realesrgan-x4fast'], 'realesrgan-x4plus', 'realesrgan-x4fast'],
      [detectObjectsTask, { model: 'nanodet' }, ['centernet'], 'nanodet', 'centernet'],
      [faceDetectTask, { detector: 'blazeface' }, ['face-detect'], 'blazeface', 'ultraface'],
    ];
    for (const [task, raw, present, requested, served] of cases) {
      const { options, fallback } = choose(task, raw, present);
      assert.deepEqual(fallback, { requested, served }, task.name);
      assert.ok(task.models(options).every((id) => present.includes(id)), `${task.name} now runs only present models`);
    }
  });

  test('nothing changes when the asked model is present, when the default is absent too, or under MODEL_FALLBACK=strict', () => {
    assert.equal(choose(removeBackgroundTask, { model: 'rmbg-1.4' }, ['rmbg-1.4', 'isnet-general-int8']).fallback, undefined);
    assert.equal(choose(removeBackgroundTask, { model: 'rmbg-1.4' }, []).fallback, undefined);
    const strict = choose(removeBackgroundTask, { model: 'rmbg-1.4' }, ['isnet-general-int8'], { MODEL_FALLBACK: 'strict' });
    assert.equal(strict.fallback, undefined);
    assert.equal((strict.options as { model: string }).model, 'rmbg-1.4');
    assert.equal(choose(faceDetectTask, { detector: 'ultraface', plugins: 'pose' }, ['face-detect']).fallback, undefined, 'a missing plugin model is not the detector\'s to replace');
  });
});

describe('the FotoFun client\'s default call with model rmbg-1.4, on the real ModelManager', () => {
  let kit: ManagerKit;
  let lenient: TestApp;
  let strict: TestApp;
  let photo: string;
  before(async () => {
    const dir = tempDir();
    kit = tinyManager(dir, [{ id: 'isnet-general-int8', graph: meanSigmoidModel() }, { id: 'rmbg-1.4', graph: meanSigmoidModel() }]);
    fs.rmSync(path.join(dir, 'rmbg-1.4.onnx'));
    lenient = await startTestApp({ tasks: [removeBackgroundTask], runner: kit.manager });
    strict = await startTestApp({ tasks: [removeBackgroundTask], runner: kit.manager, env: { MODEL_FALLBACK: 'strict' } });
    photo = (await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).png().toBuffer()).toString('base64');
  });
  after(async () => {
    await lenient.close();
    await strict.close();
    await kit.close();
  });

  test('is served by the CPU default isnet-general-int8, and the answer says so in metadata and a header', async () => {
    const res = await postJson(`${lenient.url}/api/v1/transformers/remove-background`, { image: photo, format: 'png', options: { model: 'rmbg-1.4', returnMask: false } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-model-fallback'), 'rmbg-1.4 -> isnet-general-int8');
    const body = (await res.json()) as { result: { format: string; metadata: { model: string; requestedModel: string } } };
    assert.equal(body.result.metadata.model, 'isnet-general-int8');
    assert.equal(body.result.metadata.requestedModel, 'rmbg-1.4');
    assert.equal(body.result.format, 'png');
    const form = new FormData();
    form.append('image', new Blob([Buffer.from(photo, 'base64')], { type: 'image/png' }), 'photo.png');
    form.append('model', 'rmbg-1.4');
    const short = await fetch(`${lenient.url}/v1/remove-background`, { method: 'POST', body: form });
    assert.equal(short.status, 200);
    assert.equal(short.headers.get('content-type'), 'image/png');
    assert.equal(short.headers.get('x-model-fallback'), 'rmbg-1.4 -> isnet-general-int8');
  });

  test('MODEL_FALLBACK=strict answers 503 MODEL_UNAVAILABLE naming the pull command, as before', async () => {
    const res = await postJson(`${strict.url}/api/v1/transformers/remove-background`, { image: photo, options: { model: 'rmbg-1.4' } });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('x-model-fallback'), null);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'MODEL_UNAVAILABLE');
    assert.match(body.error.message, /npm run models -- pull rmbg-1\.4/);
  });

  test('an async job records the fallback in its result metadata', async () => {
    const h = createHarness([removeBackgroundTask], {}, { runner: kit.manager });
    h.queue.start();
    try {
      const { job } = await h.queue.submit({ owner: 'anonymous', operation: 'remove-background', image: await validated(Buffer.from(photo, 'base64')), options: { model: 'rmbg-1.4' } });
      const done = untilStatus(h.queue, job.id, 'completed');
      if (h.queue.get(job.id, 'anonymous').status !== 'completed') await done;
      const metadata = h.queue.get(job.id, 'anonymous').result?.metadata as Record<string, unknown>;
      assert.equal(metadata.model, 'isnet-general-int8');
      assert.equal(metadata.requestedModel, 'rmbg-1.4');
    } finally {
      await h.queue.close();
    }
  });
});
