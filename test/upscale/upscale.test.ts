import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import sharp from 'sharp';
import { testConfig } from '../../src/config.js';
import { AppError } from '../../src/errors.js';
import { validateImage } from '../../src/image/validate.js';
import type { ValidatedImage } from '../../src/image/types.js';
import type { ModelRunner } from '../../src/models/runner.js';
import { parseOptions } from '../../src/tasks/options.js';
import type { TaskContext, TaskProgress } from '../../src/tasks/types.js';
import { UpscaleOptions, upscaleTask } from '../../src/tasks/upscale.js';
import { planUpscale } from '../../src/tasks/upscale/plan.js';
import { directRunner } from '../kit/direct-runner.js';
import { nearestUpscaleModel } from '../kit/onnx.js';

const NEAREST = {
  'realesrgan-x4fast': nearestUpscaleModel(4).toBytes(),
  'realesrgan-x4plus': nearestUpscaleModel(4).toBytes(),
  'realesr-animevideov3-x2': nearestUpscaleModel(2).toBytes(),
  'realesr-animevideov3-x3': nearestUpscaleModel(3).toBytes(),
  'realesr-animevideov3-x4': nearestUpscaleModel(4).toBytes(),
};

function context(runner: ModelRunner, opts: { config?: Record<string, string>; signal?: AbortSignal } = {}) {
  const progress: TaskProgress[] = [];
  const ctx: TaskContext = {
    runner,
    config: testConfig(opts.config),
    logger: pino({ level: 'silent' }),
    signal: opts.signal ?? new AbortController().signal,
    onProgress: (p) => progress.push(p),
    owner: 'test',
  };
  return { ctx, progress };
}

async function image(width: number, height: number, alpha = false): Promise<ValidatedImage> {
  const channels = alpha ? 4 : 3;
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 251;
  if (alpha) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(y * width + x) * 4 + 3] = Math.round((255 * x) / (width - 1));
  const png = await sharp(data, { raw: { width, height, channels } }).png().toBuffer();
  return validateImage(png, { maxFileSize: 50e6, maxPixels: 40e6 });
}

const options = (raw: Record<string, unknown> = {}) => parseOptions(UpscaleOptions, raw);

describe('upscale options', () => {
  test('defaults to ×4 and PNG, leaving the model and its tilePad to the device', () => {
    const o = options();
    assert.equal(o.scale, 4);
    assert.equal(o.tilePad, undefined);
    assert.equal(o.outputFormat, 'png');
    assert.equal(o.model, undefined);
  });

  test('answers INVALID_OPTIONS naming realesr-general-x4v3 when denoise is asked for', () => {
    assert.throws(() => options({ denoise: 0.5 }), (err: AppError) => err.code === 'INVALID_OPTIONS' && /realesr-general-x4v3/.test(err.message));
  });

  test('answers INVALID_OPTIONS for scale 5, an unknown model and a tile too small for its pad', () => {
    for (const raw of [{ scale: 5 }, { model: 'gfpgan' }, { tileSize: 32, tilePad: 12 }, { colour: 'red' }]) {
      assert.throws(() => options(raw), (err: AppError) => err.code === 'INVALID_OPTIONS', JSON.stringify(raw));
    }
  });

  test('lists the models a request runs: the CPU and GPU defaults, or the family variant for the scale', () => {
    assert.deepEqual(upscaleTask.models(options()), ['realesrgan-x4fast', 'realesrgan-x4plus']);
    assert.deepEqual(upscaleTask.models(options({ model: 'realesr-animevideov3', scale: 8 })), ['realesr-animevideov3-x2', 'realesr-animevideov3-x4']);
  });
});

describe('upscale plan', () => {
  const x4 = { 4: 'm4' };
  test('×8 with a ×4-only model runs ×4, resizes to ×2, then runs ×4 again', () => {
    const plan = planUpscale(x4, 10, 6, 8);
    assert.deepEqual(plan.steps.map((s) => [s.kind, s.width, s.height]), [['model', 40, 24], ['resize', 20, 12], ['model', 80, 48]]);
    assert.equal(plan.peakPixels, 80 * 48);
  });

  test('×8 with native ×2 and ×4 variants chains them; ×3 uses the ×3 variant', () => {
    const family = { 2: 'm2', 3: 'm3', 4: 'm4' };
    assert.deepEqual(planUpscale(family, 10, 10, 8).steps.map((s) => (s.kind === 'model' ? s.modelId : 'resize')), ['m2', 'm4']);
    assert.deepEqual(planUpscale(family, 10, 10, 3).steps.map((s) => (s.kind === 'model' ? s.modelId : 'resize')), ['m3']);
  });

  test('×2 with a ×4-only model resizes down after the pass, and that pass counts as the peak', () => {
    const plan = planUpscale(x4, 10, 10, 2);
    assert.deepEqual(plan.steps.map((s) => [s.kind, s.width]), [['model', 40], ['resize', 20]]);
    assert.equal(plan.peakPixels, 1600);
  });
});

describe('upscale task', () => {
  test('upscales ×4 with the CPU default model and reports tiles, device and timings', async () => {
    const runner = directRunner(NEAREST);
    const { ctx, progress } = context(runner);
    const result = await upscaleTask.run(await image(40, 30), options({ tileSize: 16, tilePad: 2 }), ctx);
    assert.equal(result.kind, 'image');
    if (result.kind !== 'image') return;
    const meta = await sharp(result.image).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 160, 120]);
    assert.equal(result.metadata.model, 'realesrgan-x4fast');
    assert.equal(result.metadata.device, 'cpu');
    assert.equal(result.metadata.tilePad, 2, 'an explicit tilePad wins over the model default');
    assert.equal(result.metadata.tiles, runner.calls.length);
    assert.ok(runner.calls.length > 4 && runner.calls.every((id) => id === 'realesrgan-x4fast'));
    assert.ok(typeof (result.metadata.timings as Record<string, number>).inferenceMs === 'number');
    const fractions = progress.filter((p) => p.stage === 'upscale').map((p) => p.fraction);
    assert.equal(fractions.length, runner.calls.length);
    assert.ok(fractions.every((f, i) => i === 0 || f > (fractions[i - 1] as number)));
  });

  test('matches a nearest ×4 of the decoded image when the model is nearest (pixels flow through unchanged)', async () => {
    const img = await image(23, 17);
    const { ctx } = context(directRunner(NEAREST));
    const result = await upscaleTask.run(img, options({ tileSize: 16, tilePad: 3 }), ctx);
    assert.equal(result.kind, 'image');
    if (result.kind !== 'image') return;
    const got = await sharp(result.image).raw().toBuffer();
    const want = await sharp(img.buffer).resize(92, 68, { kernel: 'nearest' }).raw().toBuffer();
    assert.ok(got.equals(want));
  });

  test('keeps the alpha channel: resampled to the output size and re-attached', async () => {
    const { ctx } = context(directRunner(NEAREST));
    const result = await upscaleTask.run(await image(20, 10, true), options({ outputFormat: 'webp' }), ctx);
    assert.equal(result.kind, 'image');
    if (result.kind !== 'image') return;
    const { data, info } = await sharp(result.image).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [80, 40, 4]);
    const alphaAt = (x: number) => data[(20 * 80 + x) * 4 + 3] as number;
    assert.ok(alphaAt(0) < 10 && alphaAt(79) > 245 && Math.abs(alphaAt(40) - 128) < 12, `${alphaAt(0)} ${alphaAt(40)} ${alphaAt(79)}`);
  });

  test('×8 runs two passes and ×2 with realesr-animevideov3 runs its native ×2 model', async () => {
    const runner = directRunner(NEAREST);
    const eight = await upscaleTask.run(await image(12, 9), options({ scale: 8 }), context(runner).ctx);
    assert.deepEqual([eight.metadata?.width, eight.metadata?.height], [96, 72]);
    assert.deepEqual(runner.calls, ['realesrgan-x4fast', 'realesrgan-x4fast']);
    const anime = directRunner(NEAREST);
    const two = await upscaleTask.run(await image(12, 9), options({ scale: 2, model: 'realesr-animevideov3' }), context(anime).ctx);
    assert.deepEqual([two.metadata?.width, two.metadata?.height], [24, 18]);
    assert.deepEqual(anime.calls, ['realesr-animevideov3-x2']);
  });

  test('an outscale of 2.5 finishes with a resize to round(size × 2.5)', async () => {
    const result = await upscaleTask.run(await image(11, 7), options({ outscale: 2.5, outputFormat: 'jpeg' }), context(directRunner(NEAREST)).ctx);
    assert.equal(result.kind === 'image' && result.format, 'jpeg');
    assert.deepEqual([result.metadata?.width, result.metadata?.height], [28, 18]);
  });

  test('picks realesrgan-x4plus with its wider tilePad by default on a GPU', async () => {
    const runner = directRunner(NEAREST);
    const result = await upscaleTask.run(await image(8, 8), options(), context(runner, { config: { DEVICE: 'cuda' } }).ctx);
    assert.deepEqual(runner.calls, ['realesrgan-x4plus']);
    assert.equal(result.kind === 'image' && result.metadata.tilePad, 40);
  });

  test('a tileSize without tilePad narrows the model\'s pad to fit the tile instead of failing', async () => {
    const runner = directRunner(NEAREST);
    const result = await upscaleTask.run(await image(40, 30), options({ model: 'realesrgan-x4plus', tileSize: 32 }), context(runner).ctx);
    assert.equal(result.kind === 'image' && result.metadata.tilePad, 7, 'floor((32 − 2) / 4) instead of the RRDB default 40');
    assert.equal(result.kind === 'image' && result.metadata.tileSize, 32);
  });

  test('answers 413 IMAGE_TOO_LARGE with the largest input allowed, before decoding or running anything', async () => {
    const runner = directRunner(NEAREST);
    const huge: ValidatedImage = { buffer: Buffer.from('not decoded'), format: 'png', width: 3000, height: 2000, hasAlpha: false };
    await assert.rejects(upscaleTask.run(huge, options(), context(runner).ctx), (err: AppError) => {
      const details = err.details as { largestInput: { pixels: number; width: number; height: number }; maxOutputPixels: number };
      assert.equal(err.code, 'IMAGE_TOO_LARGE');
      assert.equal(err.status, 413);
      assert.equal(details.maxOutputPixels, 64e6);
      assert.equal(details.largestInput.pixels, 4e6);
      assert.ok(details.largestInput.width * details.largestInput.height <= 4e6);
      assert.ok(Math.abs(details.largestInput.width / details.largestInput.height - 1.5) < 0.01);
      assert.match(err.message, /at most 4000000 pixels/);
      return true;
    });
    assert.equal(runner.calls.length, 0);
  });

  test('the limit follows MAX_OUTPUT_PIXELS and the scale: 1000×1000 ×8 needs 64 MP', async () => {
    const img: ValidatedImage = { buffer: Buffer.alloc(0), format: 'png', width: 1001, height: 1000, hasAlpha: false };
    await assert.rejects(upscaleTask.run(img, options({ scale: 8 }), context(directRunner(NEAREST)).ctx), /IMAGE_TOO_LARGE|output limit/);
    const small = await image(10, 10);
    const { ctx } = context(directRunner(NEAREST), { config: { MAX_OUTPUT_PIXELS: '1000' } });
    await assert.rejects(upscaleTask.run(small, options(), ctx), (err: AppError) => err.code === 'IMAGE_TOO_LARGE');
  });

  test('stops between tiles when the request is aborted', async () => {
    const controller = new AbortController();
    const runner = directRunner(NEAREST);
    const { ctx } = context(runner, { signal: controller.signal });
    ctx.onProgress = () => controller.abort(new Error('cancelled'));
    await assert.rejects(upscaleTask.run(await image(64, 64), options({ tileSize: 16, tilePad: 2 }), ctx), /cancelled/);
    assert.equal(runner.calls.length, 1);
  });

  test('answers PROCESSING_ERROR when the model output is not ×scale', async () => {
    const runner = directRunner({ 'realesrgan-x4fast': nearestUpscaleModel(2).toBytes() });
    await assert.rejects(upscaleTask.run(await image(8, 8), options(), context(runner).ctx), (err: AppError) => err.code === 'PROCESSING_ERROR' && /expected float32 \[1,3,32,32\]/.test(err.message));
  });
});
