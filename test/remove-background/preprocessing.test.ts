import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RemoveBackgroundOptions, removeBackgroundTask } from '../../src/tasks/remove-background.js';
import { maskFromOutput } from '../../src/tasks/remove-background/mask.js';
import { SEGMENTATION_MODELS, defaultSegmentationModel, segmentationModel } from '../../src/tasks/remove-background/models.js';
import { normalisePlanar } from '../../src/tasks/remove-background/preprocess.js';
import type { RawImage } from '../../src/image/raw.js';
import { float32 } from '../../src/models/tensor.js';
import { directRunner } from '../kit/direct-runner.js';
import { GraphBuilder } from '../kit/onnx.js';
import { darkBoxOnLight, rawPixels, spyRunner, taskContext } from './kit.js';
import { validated } from '../kit/images.js';

/** Pixels as a one-row raw RGB image. */
const rgb = (values: number[]): RawImage => ({ data: Buffer.from(values), width: values.length / 3, height: 1, channels: 3 });
/** A [1,1,1,n] model output. */
const row = (values: number[]) => float32(new Float32Array(values), [1, 1, 1, values.length]);
const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-5, `${actual} ≈ ${expected}`);

describe('per-model preprocessing', () => {
  test('ISNet (IMG.LY) maps a pixel to (x − 128) / 256, planar RGB', () => {
    const out = normalisePlanar(rgb([0, 128, 255, 64, 32, 16]), segmentationModel('isnet-general'));
    // pixel 0 = (0,128,255), pixel 1 = (64,32,16); planes R, G, B.
    [-0.5, -0.25, 0, -0.375, 127 / 256, -0.4375].forEach((v, i) => close(out[i]!, v));
  });

  test('u2net stretches by the brightest value, then applies ImageNet mean/std', () => {
    const out = normalisePlanar(rgb([100, 50, 0, 200, 100, 50]), segmentationModel('u2net'));
    // brightest = 200: x/200 then (v − mean)/std.
    close(out[0]!, (0.5 - 0.485) / 0.229);
    close(out[1]!, (1 - 0.485) / 0.229);
    close(out[2]!, (0.25 - 0.456) / 0.224);
    close(out[5]!, (0.25 - 0.406) / 0.225);
  });

  test('RMBG-1.4 maps 0..255 to −0.5..0.5 without stretching', () => {
    const out = normalisePlanar(rgb([0, 255, 51]), segmentationModel('rmbg-1.4'));
    [-0.5, 0.5, 0.2 - 0.5].forEach((v, i) => close(out[i]!, v));
  });

  test("'clamp' scaling keeps a probability mask as is and clips what falls outside 0..1", () => {
    const mask = maskFromOutput(row([-0.2, 0, 0.5, 1, 1.7]), { maskScaling: 'clamp' });
    assert.deepEqual([...mask.data], [0, 0, 128, 255, 255]);
  });

  test("'minmax' scaling stretches the lowest value to 0 and the highest to 255; a flat mask is empty", () => {
    assert.deepEqual([...maskFromOutput(row([2, 3, 4]), { maskScaling: 'minmax' }).data], [0, 128, 255]);
    assert.deepEqual([...maskFromOutput(row([0.7, 0.7]), { maskScaling: 'minmax' }).data], [0, 0]);
  });

  test('every table entry has a positive input size and a non-zero std', () => {
    for (const [id, spec] of Object.entries(SEGMENTATION_MODELS)) {
      assert.ok(spec.inputSize.every((n) => Number.isInteger(n) && n > 0), id);
      assert.ok(spec.std.every((s) => s > 0), id);
    }
  });
});

/** u2net's signature: 'input.1' [1,3,320,320] → '1959' [1,1,320,320]; dark (below the ImageNet mean) scores high. */
function u2netLikeModel(): Uint8Array {
  const g = new GraphBuilder('u2net-like');
  g.input('input.1', 'float32', [1, 3, 320, 320]);
  const w = g.initializer('w', [1, 3, 1, 1], new Float32Array([-1, -1, -1]));
  g.op('Conv', ['input.1', w], { kernel_shape: [1, 1] }, '1959');
  g.output('1959', 'float32', [1, 1, 320, 320]);
  return g.toBytes();
}

describe('a model with another input size and normalisation', () => {
  test('u2net runs at 320² with its own input name, takes its first output, and the mask comes back at the original size', async () => {
    const runner = spyRunner(directRunner({ u2net: u2netLikeModel() }));
    const box = { left: 200, top: 100, width: 300, height: 200 };
    const image = await validated(await darkBoxOnLight(800, 400, box));
    const result = await removeBackgroundTask.run(image, RemoveBackgroundOptions.parse({ model: 'u2net', returnMask: true }), taskContext(runner));
    assert.equal(result.kind, 'image');
    assert.equal(runner.options[0]?.outputs, undefined);
    const px = await rawPixels((result as { image: Buffer }).image);
    assert.deepEqual([px.width, px.height, px.channels], [800, 400, 1]);
    // min-max scaling makes the darkest region exactly 255 and the lightest exactly 0.
    assert.equal(px.data[250 * 800 + 350], 255);
    assert.equal(px.data[20 * 800 + 20], 0);
  });
});

describe('options', () => {
  test('defaults: ISNet by device (int8 on CPU, fp32 on the GPU), PNG cut-out with soft alpha, no post-processing', () => {
    assert.deepEqual([defaultSegmentationModel('cpu'), defaultSegmentationModel('auto'), defaultSegmentationModel('cuda')], ['isnet-general-int8', 'isnet-general-int8', 'isnet-general']);
    assert.deepEqual(RemoveBackgroundOptions.parse({}), {
      returnMask: false,
      postProcessing: { smoothEdges: false, featherRadius: 0 },
      refine: 'none',
      postProcessMask: false,
      crop: false,
      outputFormat: 'png',
    });
  });

  test("bgColor accepts '#rrggbb', '#rrggbbaa', [r,g,b] and [r,g,b,a], opaque unless an alpha is given", () => {
    assert.deepEqual(RemoveBackgroundOptions.parse({ bgColor: '#0A80fF' }).bgColor, [10, 128, 255, 255]);
    assert.deepEqual(RemoveBackgroundOptions.parse({ bgColor: [1, 2, 3] }).bgColor, [1, 2, 3, 255]);
    assert.deepEqual(RemoveBackgroundOptions.parse({ bgColor: '#0A80fF80' }).bgColor, [10, 128, 255, 128]);
    assert.deepEqual(RemoveBackgroundOptions.parse({ bgColor: [1, 2, 3, 0] }).bgColor, [1, 2, 3, 0]);
  });

  test('rejects values outside their ranges and unknown keys', () => {
    for (const bad of [
      { bgColor: 'red' },
      { bgColor: '#fff' },
      { bgColor: [0, 0, 256] },
      { bgColor: [0, 0, 0, 0, 0] },
      { alphaThreshold: 1.5 },
      { postProcessing: { featherRadius: -1 } },
      { postProcessing: { featherRadius: 2.5 } },
      { model: 'sam' },
      { outputFormat: 'jpeg' },
      { colour: '#ffffff' },
    ]) {
      assert.equal(RemoveBackgroundOptions.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  test('the task names its route, short route and the model the options pick', () => {
    assert.equal(removeBackgroundTask.route, 'transformers/remove-background');
    assert.equal(removeBackgroundTask.shortRoute, 'remove-background');
    assert.deepEqual(removeBackgroundTask.models(RemoveBackgroundOptions.parse({ model: 'isnet-general-small' })), ['isnet-general-small']);
  });
});
