import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { pino } from 'pino';
import sharp from 'sharp';
import { testConfig } from '../../src/config.js';
import { validateImage } from '../../src/image/validate.js';
import type { ValidatedImage } from '../../src/image/types.js';
import { parseOptions } from '../../src/tasks/options.js';
import type { TaskContext } from '../../src/tasks/types.js';
import { UpscaleOptions, upscaleTask } from '../../src/tasks/upscale.js';
import { fixturePath } from '../kit/fixtures.js';
import { directRunner } from '../kit/direct-runner.js';
import { seamError } from '../kit/pixels.js';
import { realModelPath } from '../kit/real-models.js';

const fixture = fixturePath;
const limits = { maxFileSize: 50e6, maxPixels: 40e6 };

let runner: ReturnType<typeof directRunner>;

function context(): TaskContext {
  return {
    runner,
    config: testConfig(),
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    onProgress: () => {},
    owner: 'test',
  };
}

async function upscaled(img: ValidatedImage, raw: Record<string, unknown>) {
  const result = await upscaleTask.run(img, parseOptions(UpscaleOptions, raw), context());
  assert.equal(result.kind, 'image');
  if (result.kind !== 'image') throw new Error('unreachable');
  return { ...result, pixels: await sharp(result.image).raw().toBuffer({ resolveWithObject: true }) };
}

describe('upscale with the real realesrgan-x4fast weights', async () => {
  runner = directRunner({ 'realesrgan-x4fast': fs.readFileSync(await realModelPath('realesrgan-x4fast')) });

  test('upscales small-128.png ×4 to 512×512, alpha kept, close to a Lanczos ×4 in colour', async () => {
    const buffer = fs.readFileSync(fixture('small-128.png'));
    const { pixels, metadata } = await upscaled(await validateImage(buffer, limits), { model: 'realesrgan-x4fast' });
    assert.deepEqual([pixels.info.width, pixels.info.height, pixels.info.channels], [512, 512, 4]);
    assert.equal(metadata.model, 'realesrgan-x4fast');
    const lanczos = await sharp(buffer).resize(512, 512, { kernel: 'lanczos3' }).ensureAlpha().raw().toBuffer();
    let sum = 0;
    for (let i = 0; i < lanczos.length; i++) sum += Math.abs((pixels.data[i] as number) - (lanczos[i] as number));
    const meanAbs = sum / lanczos.length;
    assert.ok(meanAbs < 12, `mean |model − lanczos| = ${meanAbs.toFixed(2)} / 255`);
  });

  test('tiled output (64² tiles, default tilePad) is within 2/255 of a single pass on 99.9% of pixels and within 10/255 on all', async () => {
    const crop = await sharp(fixture('faces-group-1.jpg')).extract({ left: 120, top: 40, width: 200, height: 150 }).png().toBuffer();
    const img = await validateImage(crop, limits);
    const single = await upscaled(img, { tileSize: 4096 });
    const tiled = await upscaled(img, { tileSize: 64 });
    assert.equal(single.metadata.tiles, 1);
    assert.ok((tiled.metadata.tiles as number) >= 12);
    const { over2: fraction, worst } = seamError(single.pixels.data, tiled.pixels.data);
    assert.ok(fraction <= 0.001, `${(fraction * 100).toFixed(3)}% of pixels beyond 2/255`);
    assert.ok(worst <= 10, `worst pixel ${worst}/255`);
  });
});
