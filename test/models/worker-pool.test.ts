import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import {
  InferenceError,
  NoWorkerError,
  PoolClosedError,
  QueueFullError,
  SessionNotLoadedError,
  WorkerCrashedError,
} from '../../src/models/worker/errors.js';
import { InferencePool } from '../../src/models/worker/inference-pool.js';
import { resolvePoolSize } from '../../src/models/worker/pool-size.js';
import type { InferencePoolOptions, WorkerExitEvent } from '../../src/models/worker/types.js';
import type { Feeds, TensorLike } from '../../src/models/tensor.js';
import { isOutOfMemory } from '../../src/vram/index.js';
import { crashOnRun } from '../kit/workers.js';
import { GraphBuilder, heavyConvModel, meanSigmoidModel, nearestUpscaleModel, tempDir, writeModel } from '../kit/onnx.js';

const logger = pino({ level: 'silent' });
const dir = tempDir('worker-pool-');
const meanSigmoidPath = writeModel(dir, 'mean-sigmoid', meanSigmoidModel());
const upscalePath = writeModel(dir, 'upscale', nearestUpscaleModel(2));

/** 64→64 3×3 convolutions at 256²: ≈4.8 GFLOP each, ≈0.5 s for 16 layers on one core here. */
const HEAVY = { layers: 16, channels: 64, size: 256 };

/** y = Expand(x, shape): a shape of 2^20 × 2^20 floats asks onnxruntime for 4 TiB. */
function expandModel(): GraphBuilder {
  const g = new GraphBuilder('expand');
  g.input('x', 'float32', [1]);
  g.input('shape', 'int64', [2]);
  g.op('Expand', ['x', 'shape'], {}, 'y');
  g.output('y', 'float32', ['a', 'b']);
  return g;
}

const heavyPath = writeModel(dir, 'heavy', heavyConvModel(HEAVY.layers, HEAVY.channels));
const expandPath = writeModel(dir, 'expand', expandModel());

const heavyFeeds = (): Feeds => ({
  x: { type: 'float32', dims: [1, HEAVY.channels, HEAVY.size, HEAVY.size], data: new Float32Array(HEAVY.channels * HEAVY.size ** 2).fill(1) },
});
const image = (h: number, w: number, value: number): Feeds => ({
  input: { type: 'float32', dims: [1, 3, h, w], data: new Float32Array(3 * h * w).fill(value) },
});
const f32 = (t: TensorLike | undefined): number[] => Array.from((t?.data ?? []) as Float32Array);

function newPool(overrides: Partial<InferencePoolOptions> = {}): InferencePool {
  return new InferencePool({ workers: 1, intraOpThreads: 1, logger, ...overrides });
}

describe('InferencePool', () => {
  let pool: InferencePool;
  before(() => {
    pool = newPool({ workers: 2 });
  });
  after(() => pool.close());

  test('loads a model in a worker and returns its numbers: mean of channels through a sigmoid', async () => {
    const loaded = await pool.load('mean', { modelPath: meanSigmoidPath, device: 'cpu' });
    assert.deepEqual(loaded.inputNames, ['input']);
    assert.deepEqual(loaded.outputNames, ['output']);
    assert.ok(loaded.loadMs > 0);
    assert.ok(loaded.measuredMB >= 0);

    const { outputs, inferenceMs } = await pool.run('mean', image(2, 2, 1));
    assert.deepEqual(outputs.output?.dims, [1, 1, 2, 2]);
    for (const v of f32(outputs.output)) assert.ok(Math.abs(v - 1 / (1 + Math.exp(-1))) < 1e-6);
    assert.ok(inferenceMs >= 0);
  });

  test('moves the feed buffers to the worker instead of copying them', async () => {
    const feeds = image(4, 4, 0);
    await pool.run('mean', feeds);
    assert.equal(feeds.input?.data.byteLength, 0, 'the transferred buffer is detached on this side');
  });

  test('places two sessions on two workers and runs them concurrently', async () => {
    await pool.load('upscale', { modelPath: upscalePath, device: 'cpu' });
    const placed = pool.stats().map((s) => s.sessions);
    assert.deepEqual(placed.map((s) => s.length), [1, 1], 'one session per worker');

    const up = image(1, 1, 0);
    (up.input as TensorLike).data = new Float32Array([1, 2, 3]);
    const [mean, upscaled] = await Promise.all([
      pool.run('mean', image(3, 3, 0)),
      pool.run('upscale', { data: up.input as TensorLike }),
    ]);
    assert.deepEqual(f32(mean.outputs.output), Array(9).fill(0.5));
    assert.deepEqual(upscaled.outputs.output?.dims, [1, 3, 2, 2]);
    assert.deepEqual(f32(upscaled.outputs.output), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
  });

  test('computes and returns only the outputs asked for', async () => {
    const { outputs } = await pool.run('mean', image(1, 1, 0), { outputs: ['output'] });
    assert.deepEqual(Object.keys(outputs), ['output']);
  });

  test('reports an onnxruntime error with its message, not flagged as out of memory', async () => {
    const err = await pool.run('mean', { wrong: image(1, 1, 0).input as TensorLike }).catch((e: unknown) => e);
    assert.ok(err instanceof InferenceError);
    assert.match(err.message, /wrong|input/i);
    assert.equal(err.oom, false);
  });

  test('rejects a load of a missing file with the path in the message', async () => {
    const err = await pool.load('ghost', { modelPath: `${dir}/missing.onnx`, device: 'cpu' }).catch((e: unknown) => e);
    assert.ok(err instanceof InferenceError);
    assert.match(err.message, /missing\.onnx/);
    assert.equal(pool.has('ghost'), false);
  });

  test('flags an onnxruntime allocation failure as oom', async () => {
    await pool.load('expand', { modelPath: expandPath, device: 'cpu' });
    const feeds: Feeds = {
      x: { type: 'float32', dims: [1], data: new Float32Array([1]) },
      shape: { type: 'int64', dims: [2], data: new BigInt64Array([1n << 20n, 1n << 20n]) },
    };
    const err = await pool.run('expand', feeds).catch((e: unknown) => e);
    assert.ok(err instanceof InferenceError);
    assert.equal(err.oom, true, err.message);
  });

  test('unload frees the session: a later run rejects naming the key and the remedy', async () => {
    await pool.load('temp', { modelPath: meanSigmoidPath, device: 'cpu' });
    await pool.unload('temp');
    assert.ok(pool.stats().every((s) => !s.sessions.includes('temp')));
    const err = await pool.run('temp', image(1, 1, 0)).catch((e: unknown) => e);
    assert.ok(err instanceof SessionNotLoadedError);
    assert.match(err.message, /"temp".*load it first/);
  });
});

describe('OOM classification', () => {
  test('recognises onnxruntime and allocator out-of-memory messages', () => {
    for (const m of [
      'CUDA failure 2: out of memory ; GPU=0',
      'std::bad_alloc',
      'BFCArena::AllocateRawInternal Failed to allocate memory for requested buffer of size 1024',
    ]) {
      assert.equal(isOutOfMemory(m), true, m);
      assert.equal(new InferenceError('k', 'run', m).oom, true);
    }
    assert.equal(isOutOfMemory('Invalid rank for input: input Got: 3 Expected: 4'), false);
  });
});

describe('InferencePool with a long run', () => {
  let pool: InferencePool;
  before(async () => {
    pool = newPool();
    await pool.load('heavy', { modelPath: heavyPath, device: 'cpu' });
  });
  after(() => pool.close());

  test('keeps the main event loop ticking while a worker runs a long model', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 5);
    try {
      const { inferenceMs } = await pool.run('heavy', heavyFeeds());
      assert.ok(inferenceMs > 0);
    } finally {
      clearInterval(timer);
    }
    // A run of this size blocks for hundreds of ms; on the main thread the timer would tick ~0 times.
    assert.ok(ticks >= 10, `the 5 ms timer ticked only ${ticks} times during the run`);
  });

  test('an aborted signal takes a queued run out of the queue with an AbortError', async () => {
    const first = pool.run('heavy', heavyFeeds());
    const controller = new AbortController();
    const queued = pool.run('heavy', heavyFeeds(), { signal: controller.signal });
    assert.deepEqual(pool.stats().map((s) => [s.busy, s.queued]), [[true, 1]]);

    controller.abort();
    await assert.rejects(queued, { name: 'AbortError' });
    assert.equal(pool.stats()[0]?.queued, 0);
    await first;
  });

  test('a run whose signal is already aborted never queues', async () => {
    await assert.rejects(pool.run('heavy', heavyFeeds(), { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  test('rejects runs beyond the per-worker queue bound with QueueFullError', async () => {
    const small = newPool({ maxQueuedPerWorker: 1 });
    try {
      await small.load('heavy', { modelPath: heavyPath, device: 'cpu' });
      const inFlight = small.run('heavy', heavyFeeds());
      const waiting = small.run('heavy', heavyFeeds());
      await assert.rejects(small.run('heavy', heavyFeeds()), QueueFullError);
      await Promise.all([inFlight, waiting]);
    } finally {
      await small.close();
    }
  });
});

describe('InferencePool when a worker dies', () => {
  test('rejects the pending runs with WorkerCrashedError, replaces the worker, and the next load+run succeeds', async () => {
    const pool = newPool({ workerFactory: crashOnRun('doomed') });
    try {
      await pool.load('doomed', { modelPath: meanSigmoidPath, device: 'cpu' });
      await pool.load('bystander', { modelPath: meanSigmoidPath, device: 'cpu' });
      const threadBefore = pool.stats()[0]?.threadId;
      const lost = once(pool, 'sessionsLost');
      const exited = once(pool, 'workerExit') as Promise<[WorkerExitEvent]>;

      const doomed = pool.run('doomed', image(1, 1, 0));
      const queuedBehind = pool.run('bystander', image(1, 1, 0));
      const err = await doomed.catch((e: unknown) => e);
      assert.ok(err instanceof WorkerCrashedError);
      assert.equal(err.exitCode, 3);
      assert.equal(err.retryable, true);
      await assert.rejects(queuedBehind, WorkerCrashedError);

      const [exit] = await exited;
      assert.equal(exit.replaced, true);
      assert.deepEqual(await lost, [{ slot: 0, keys: ['doomed', 'bystander'] }]);
      assert.notEqual(pool.stats()[0]?.threadId, threadBefore);
      await assert.rejects(pool.run('bystander', image(1, 1, 0)), SessionNotLoadedError);

      await pool.load('bystander', { modelPath: meanSigmoidPath, device: 'cpu' });
      const { outputs } = await pool.run('bystander', image(1, 1, 0));
      assert.deepEqual(f32(outputs.output), [0.5]);
    } finally {
      await pool.close();
    }
  });
});

describe('InferencePool when a worker cannot start', () => {
  test('does not respawn it, and a load then fails with NoWorkerError instead of hanging', async () => {
    const pool = newPool({ workerFactory: (init) => new Worker('process.exit(2)', { eval: true, workerData: init }) });
    try {
      const [exit] = (await once(pool, 'workerExit')) as [WorkerExitEvent];
      assert.deepEqual([exit.exitCode, exit.replaced], [2, false]);
      await assert.rejects(pool.load('any', { modelPath: meanSigmoidPath, device: 'cpu' }), NoWorkerError);
      assert.deepEqual(pool.stats().map((s) => s.alive), [false]);
    } finally {
      await pool.close();
    }
  });
});

describe('InferencePool.close', () => {
  test('is idempotent, lets the run in flight finish, rejects the queued one, and refuses work afterwards', async () => {
    const pool = newPool();
    await pool.load('heavy', { modelPath: heavyPath, device: 'cpu' });
    const inFlight = pool.run('heavy', heavyFeeds());
    const queued = assert.rejects(pool.run('heavy', heavyFeeds()), PoolClosedError);
    const exits: WorkerExitEvent[] = [];
    pool.on('workerExit', (e) => exits.push(e));

    const first = pool.close();
    assert.equal(pool.close(), first);
    await first;
    await pool.close();
    await queued;
    const { outputs } = await inFlight;
    assert.deepEqual(outputs.y?.dims, [1, HEAVY.channels, HEAVY.size, HEAVY.size]);
    await assert.rejects(pool.run('heavy', heavyFeeds()), PoolClosedError);
    await assert.rejects(pool.load('x', { modelPath: meanSigmoidPath, device: 'cpu' }), PoolClosedError);
    assert.deepEqual(exits, [], 'closing is not reported as a crash');
    assert.ok(pool.stats().every((s) => !s.alive));
  });
});

describe('resolvePoolSize', () => {
  test('gives two workers every core each unless configured', () => {
    assert.deepEqual(resolvePoolSize({}, 2), { workers: 2, intraOpThreads: 2 });
    assert.deepEqual(resolvePoolSize({}, 8), { workers: 2, intraOpThreads: 8 });
    assert.deepEqual(resolvePoolSize({}, 1), { workers: 1, intraOpThreads: 1 });
  });

  test('a configured value wins over the default', () => {
    assert.deepEqual(resolvePoolSize({ workers: 1 }, 8), { workers: 1, intraOpThreads: 8 });
    assert.deepEqual(resolvePoolSize({ workers: 3, intraOpThreads: 5 }, 2), { workers: 3, intraOpThreads: 5 });
  });
});
