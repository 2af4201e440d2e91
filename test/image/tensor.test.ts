import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { float32 } from '../../src/models/tensor.js';
import type { RawImage } from '../../src/image/raw.js';
import { boxToOriginal, imageToTensor, maskToAlpha, planResize, tensorToRaw, toInput, toOriginal, type PreprocessSpec } from '../../src/image/tensor.js';
import { validateImage } from '../../src/image/validate.js';
import { fixture, halves } from './samples.js';

const LIMITS = { maxFileSize: 5_000_000, maxPixels: 40e6 };
const IDENTITY: Omit<PreprocessSpec, 'size'> = {
  fit: 'fill', channelOrder: 'RGB', layout: 'NCHW', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1],
};

async function rawHalves(width: number, height: number): Promise<RawImage> {
  const { data, info } = await halves(width, height).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

/** A 3×2 image with every value distinct, so any channel or layout mix-up shows. */
function distinctPixels(): RawImage {
  const data = Buffer.from(Array.from({ length: 18 }, (_, i) => i * 10));
  return { data, width: 3, height: 2, channels: 3 };
}

describe('imageToTensor', () => {
  test('round-trips pixels exactly through NCHW and tensorToRaw', async () => {
    const img = await validateImage(fixture('small-128.png'), LIMITS);
    const { tensor, inputSize } = await imageToTensor(img, { ...IDENTITY, size: { width: 128, height: 128 } });
    assert.deepEqual(tensor.dims, [1, 3, 128, 128]);
    assert.deepEqual(inputSize, { width: 128, height: 128 });
    const back = tensorToRaw(tensor);
    const data = await sharp(fixture('small-128.png')).removeAlpha().raw().toBuffer();
    assert.ok(back.data.equals(data));
  });

  test('writes NHWC interleaved and NCHW planar from the same pixels', async () => {
    const raw = distinctPixels();
    const spec = { ...IDENTITY, scale: 1, size: { width: 3, height: 2 } };
    const nhwc = await imageToTensor(raw, { ...spec, layout: 'NHWC' });
    const nchw = await imageToTensor(raw, spec);
    assert.deepEqual(nhwc.tensor.dims, [1, 2, 3, 3]);
    assert.deepEqual([...nhwc.tensor.data], [...raw.data]);
    // NCHW: all reds, then greens, then blues
    assert.deepEqual([...nchw.tensor.data].slice(0, 6), [0, 30, 60, 90, 120, 150]);
    assert.deepEqual([...nchw.tensor.data].slice(6, 12), [10, 40, 70, 100, 130, 160]);
  });

  test('applies scale, mean and std per colour, and BGR order swaps them along', async () => {
    const raw = distinctPixels();
    const spec: PreprocessSpec = { ...IDENTITY, size: { width: 3, height: 2 }, mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2], channelOrder: 'BGR' };
    const { tensor } = await imageToTensor(raw, spec);
    const plane = (c: number) => [...tensor.data].slice(c * 6, c * 6 + 6) as number[];
    const expect = (v: number, mean: number, std: number) => (v / 255 - mean) / std;
    // channel 0 is blue: pixel 0 blue = 20
    assert.ok(Math.abs(plane(0)[0]! - expect(20, 0, 2)) < 1e-6);
    assert.ok(Math.abs(plane(1)[1]! - expect(40, 0.25, 0.25)) < 1e-6);
    assert.ok(Math.abs(plane(2)[2]! - expect(60, 0.5, 0.5)) < 1e-6);
  });

  test('letterboxes with the pad colour and maps coordinates back to the original', async () => {
    const raw = await rawHalves(200, 100);
    const pre = await imageToTensor(raw, { ...IDENTITY, scale: 1, size: { width: 64, height: 64 }, fit: 'contain', padColor: [0, 255, 0] });
    assert.deepEqual(pre.transform, { scaleX: 0.32, scaleY: 0.32, padX: 0, padY: 16 });
    assert.deepEqual(pre.originalSize, { width: 200, height: 100 });
    const at = (c: number, x: number, y: number) => pre.tensor.data[c * 64 * 64 + y * 64 + x];
    assert.deepEqual([at(0, 5, 5), at(1, 5, 5), at(2, 5, 5)], [0, 255, 0], 'top band is pad colour');
    assert.deepEqual([at(0, 5, 30), at(2, 5, 30)], [255, 0], 'left of the image is red');
    assert.deepEqual([at(0, 60, 30), at(2, 60, 30)], [0, 255], 'right of the image is blue');
    assert.deepEqual(toOriginal(pre.transform, 32, 16), { x: 100, y: 0 });
    assert.deepEqual(toOriginal(pre.transform, 64, 48), { x: 200, y: 100 });
    assert.deepEqual(toInput(pre.transform, 100, 50), { x: 32, y: 32 });
    assert.deepEqual(boxToOriginal(pre.transform, { x1: -4, y1: 0, x2: 32, y2: 40 }, pre.originalSize), { x1: 0, y1: 0, x2: 100, y2: 75 });
  });

  test('cover crops the centre and maps back through the negative offset', async () => {
    const raw = await rawHalves(200, 100);
    const pre = await imageToTensor(raw, { ...IDENTITY, scale: 1, size: { width: 64, height: 64 }, fit: 'cover' });
    assert.deepEqual(pre.transform, { scaleX: 0.64, scaleY: 0.64, padX: -32, padY: 0 });
    assert.deepEqual(pre.tensor.dims, [1, 3, 64, 64]);
    assert.deepEqual(toOriginal(pre.transform, 0, 0), { x: 50, y: 0 });
    assert.deepEqual(toOriginal(pre.transform, 32, 64), { x: 100, y: 100 });
  });

  test('fill stretches each axis on its own', () => {
    assert.deepEqual(planResize({ width: 200, height: 100 }, { width: 50, height: 50 }, 'fill').transform, { scaleX: 0.25, scaleY: 0.5, padX: 0, padY: 0 });
  });

  test('applies EXIF orientation before resizing a validated JPEG', async () => {
    const jpeg = await halves(40, 20).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const img = await validateImage(jpeg, LIMITS);
    const pre = await imageToTensor(img, { ...IDENTITY, size: { width: 20, height: 40 } });
    assert.deepEqual(pre.originalSize, { width: 20, height: 40 });
    const red = (x: number, y: number) => pre.tensor.data[y * 20 + x] as number;
    assert.ok(red(10, 2) > 0.8 && red(10, 37) < 0.2);
  });

  test('gives three channels from a one-channel raw input and one for grayscale models from a photo', async () => {
    const grey: RawImage = { data: Buffer.alloc(16, 128), width: 4, height: 4, channels: 1 };
    assert.deepEqual((await imageToTensor(grey, { ...IDENTITY, size: { width: 4, height: 4 } })).tensor.dims, [1, 3, 4, 4]);
    const img = await validateImage(fixture('faces-group-1.jpg'), LIMITS);
    assert.deepEqual((await imageToTensor(img, { ...IDENTITY, size: { width: 8, height: 8 }, grayscale: true })).tensor.dims, [1, 1, 8, 8]);
  });

  test('produces one channel for grayscale models', async () => {
    const raw = await rawHalves(8, 8);
    const pre = await imageToTensor(raw, { ...IDENTITY, size: { width: 4, height: 4 }, grayscale: true, mean: [0.5, 0, 0], std: [0.5, 1, 1] });
    assert.deepEqual(pre.tensor.dims, [1, 1, 4, 4]);
    assert.ok([...pre.tensor.data].every((v) => v >= -1 && v <= 1));
  });
});

describe('tensorToRaw', () => {
  test('maps a −1…1 BGR output to RGB bytes with scale, offset and saturation', () => {
    const bgr = float32(new Float32Array([-1, 0, 1]), [1, 3, 1, 1]);
    const raw = tensorToRaw(bgr, { scale: 127.5, offset: 127.5, channelOrder: 'BGR' });
    assert.deepEqual([...raw.data], [255, 128, 0]);
    assert.throws(() => tensorToRaw(float32(new Float32Array(6), [2, 3, 1, 1])), /\[1, C, H, W\]/);
    assert.throws(() => tensorToRaw(float32(new Float32Array(4), [1, 3, 1, 1])), /\[1, C, H, W\]/);
  });

  test('clamps before scaling', () => {
    const raw = tensorToRaw(float32(new Float32Array([1.5, -0.2, 0.5]), [1, 1, 1, 3]), { clamp: [0, 1] });
    assert.deepEqual([...raw.data], [255, 0, 128]);
    assert.equal(raw.channels, 1);
  });
});

describe('maskToAlpha', () => {
  test('stretches a mask to 0–255 with minmax and inverts on request', () => {
    const mask = float32(new Float32Array([2, 3, 4, 6]), [1, 1, 2, 2]);
    assert.deepEqual([...maskToAlpha(mask, { normalize: 'minmax' }).data], [0, 64, 128, 255]);
    assert.deepEqual([...maskToAlpha(mask, { normalize: 'minmax', invert: true }).data], [255, 191, 128, 0]);
    const plain = maskToAlpha(float32(new Float32Array([0, 0.5, 1, 2]), [2, 2]));
    assert.deepEqual({ ...plain, data: [...plain.data] }, { data: [0, 128, 255, 255], width: 2, height: 2, channels: 1 });
  });

  test('refuses a multi-channel tensor', () => {
    assert.throws(() => maskToAlpha(float32(new Float32Array(8), [1, 2, 2, 2])), /mask/);
  });
});
