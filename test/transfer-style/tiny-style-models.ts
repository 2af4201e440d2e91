import { GraphBuilder } from '../kit/onnx.js';

/** The model zoo's fast-neural-style signature (fixed 224², 0..255); the "style" is the negative. */
export function negativePresetModel(): Uint8Array {
  const g = new GraphBuilder('tiny-fast-neural-style', 13);
  g.input('input1', 'float32', [1, 3, 224, 224]);
  const full = g.initializer('full', [], new Float32Array([255]));
  g.op('Sub', [full, 'input1'], {}, 'output1');
  g.output('output1', 'float32', [1, 3, 224, 224]);
  return g.toBytes();
}

/**
 * AdaIN's encoder signature: 8×8 block means of the RGB channels, repeated over 512 features
 * (feature k carries channel k mod 3), so AdaIN's statistics are the block colours'.
 */
export function blockMeanEncoder(): Uint8Array {
  const g = new GraphBuilder('tiny-adain-encoder', 13);
  g.input('image', 'float32', [1, 3, 'h', 'w']);
  const pooled = g.op('AveragePool', ['image'], { kernel_shape: [8, 8], strides: [8, 8] });
  const w = new Float32Array(512 * 3);
  for (let k = 0; k < 512; k++) w[k * 3 + (k % 3)] = 1;
  g.op('Conv', [pooled, g.initializer('w', [512, 3, 1, 1], w)], {}, 'features');
  g.output('features', 'float32', [1, 512, 'h8', 'w8']);
  return g.toBytes();
}

/** AdaIN's decoder signature: features 0..2 as RGB, each block drawn 8×8. */
export function blockDecoder(): Uint8Array {
  const g = new GraphBuilder('tiny-adain-decoder', 13);
  g.input('features', 'float32', [1, 512, 'h8', 'w8']);
  const w = new Float32Array(3 * 512);
  for (let c = 0; c < 3; c++) w[c * 512 + c] = 1;
  const rgb = g.op('Conv', ['features', g.initializer('w', [3, 512, 1, 1], w)]);
  const scales = g.initializer('scales', [4], new Float32Array([1, 1, 8, 8]));
  g.op('Resize', [rgb, g.initializer('roi', [0], new Float32Array([])), scales], { mode: 'nearest' }, 'image');
  g.output('image', 'float32', [1, 3, 'h', 'w']);
  return g.toBytes();
}
