import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import type { Feeds } from '../../src/models/tensor.js';
import { tinyManager } from '../kit/models.js';
import { crashOnRun } from '../kit/workers.js';
import { heavyConvModel, meanSigmoidModel, tempDir } from '../kit/onnx.js';

const image = (h: number, w: number, value: number): Feeds => ({
  input: { type: 'float32', dims: [1, 3, h, w], data: new Float32Array(3 * h * w).fill(value) },
});

describe('ModelManager.run on real worker-thread sessions', () => {
  const kit = tinyManager(tempDir('manager-'), [
    { id: 'tiny-mask', graph: meanSigmoidModel() },
    { id: 'tiny-mask-2', graph: meanSigmoidModel(), zone: 'flexible' },
  ]);
  after(() => kit.close());

  test('runs a model and returns its outputs, device and inference time', async () => {
    const res = await kit.manager.run('tiny-mask', image(2, 2, 0));
    assert.equal(res.device, 'cpu');
    assert.deepEqual(res.outputs.output?.dims, [1, 1, 2, 2]);
    assert.ok(Math.abs((res.outputs.output!.data as Float32Array)[0]! - 0.5) < 1e-6);
    assert.equal(typeof res.inferenceMs, 'number');
  });

  test('N concurrent first requests share one load', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => kit.manager.run('tiny-mask-2', image(4, 4, 1))));
    assert.equal(results.length, 6);
    const loads = kit.scheduler.snapshot().decisions.filter((d) => d.modelId === 'tiny-mask-2' && d.kind === 'load');
    assert.equal(loads.length, 1);
    assert.equal(kit.pool.stats().flatMap((w) => w.sessions).filter((k) => k.startsWith('tiny-mask-2@')).length, 1);
  });

  test('lists models with state, measured memory, runs and p50 latency', async () => {
    await kit.manager.run('tiny-mask', image(2, 2, 0));
    const info = kit.manager.info('tiny-mask');
    assert.equal(info.state, 'cpu');
    assert.equal(info.downloaded, true);
    assert.ok(info.runs >= 2);
    assert.equal(typeof info.p50Ms, 'number');
    assert.deepEqual(kit.manager.loaded().find((m) => m.id === 'tiny-mask'), { id: 'tiny-mask', state: 'ready', device: 'cpu' });
    assert.equal(kit.manager.list().filter((m) => m.state !== 'unloaded').length, kit.manager.loaded().length, 'health and the catalogue agree');
  });

  test('an unknown model fails with a message naming it', async () => {
    await assert.rejects(kit.manager.run('nope', image(1, 1, 0)), (err: unknown) => err instanceof AppError && /nope/.test(err.message));
  });
});

describe('ModelManager under failure', () => {
  test('weights that are not downloaded answer MODEL_UNAVAILABLE with the pull command', async () => {
    const dir = tempDir('manager-missing-');
    const kit = tinyManager(dir, [{ id: 'gone', graph: meanSigmoidModel() }]);
    try {
      const fs = await import('node:fs');
      fs.rmSync(kit.store.pathFor('gone'));
      await assert.rejects(kit.manager.run('gone', image(1, 1, 0)), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'MODEL_UNAVAILABLE');
        assert.match(err.message, /npm run models -- pull gone/);
        return true;
      });
    } finally {
      await kit.close();
    }
  });

  test('weights that fail their checksum are refused before a session is created', async () => {
    const dir = tempDir('manager-corrupt-');
    const kit = tinyManager(dir, [{ id: 'bad', graph: meanSigmoidModel() }]);
    try {
      const fs = await import('node:fs');
      const file = kit.store.pathFor('bad');
      const bytes = fs.readFileSync(file);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      fs.writeFileSync(file, bytes);
      await assert.rejects(kit.manager.run('bad', image(1, 1, 0)), /sha256|checksum/i);
      assert.equal(kit.pool.stats().flatMap((w) => w.sessions).length, 0);
    } finally {
      await kit.close();
    }
  });

  test('the event loop keeps ticking while a long run is in flight', async () => {
    const kit = tinyManager(tempDir('manager-slow-'), [{ id: 'slow', graph: heavyConvModel(12, 64) }]);
    try {
      const feeds: Feeds = { x: { type: 'float32', dims: [1, 64, 256, 256], data: new Float32Array(64 * 256 * 256).fill(1) } };
      await kit.manager.run('slow', feeds);
      let ticks = 0;
      const timer = setInterval(() => (ticks += 1), 5);
      const started = performance.now();
      const res = await kit.manager.run('slow', { x: { ...feeds.x!, data: new Float32Array(64 * 256 * 256).fill(1) } });
      const wall = performance.now() - started;
      clearInterval(timer);
      assert.ok(res.inferenceMs > 100, `the run is long enough to matter (${res.inferenceMs} ms)`);
      // Inference on the main thread would allow 0–1 ticks; a tenth of the ideal rate leaves room for a loaded CI machine.
      assert.ok(ticks >= Math.max(3, Math.floor(wall / 5 / 10)), `a 5 ms timer ticked ${ticks} times during ${Math.round(wall)} ms`);
    } finally {
      await kit.close();
    }
  });

  test('a worker dying mid-run fails that request; the worker is replaced and the next request succeeds', async () => {
    const kit = tinyManager(tempDir('manager-crash-'), [{ id: 'doomed', graph: meanSigmoidModel() }, { id: 'tiny', graph: meanSigmoidModel() }], {
      workerFactory: crashOnRun('doomed@cpu', 2),
    });
    try {
      assert.equal((await kit.manager.run('doomed', image(2, 2, 0))).device, 'cpu');
      await assert.rejects(kit.manager.run('doomed', image(2, 2, 0)), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'PROCESSING_ERROR');
        assert.match(err.message, /retry/);
        return true;
      });
      const again = await kit.manager.run('doomed', image(2, 2, 3));
      assert.ok(Math.abs((again.outputs.output!.data as Float32Array)[0]! - 1 / (1 + Math.exp(-3))) < 1e-6);
      assert.equal((await kit.manager.run('tiny', image(1, 1, 0))).device, 'cpu');
    } finally {
      await kit.close();
    }
  });
});
