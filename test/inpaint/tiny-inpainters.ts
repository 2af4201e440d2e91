import { GraphBuilder } from '../kit/onnx.js';

const SIDE = 512;

/**
 * LaMa's signature (`image` 0..1 + `mask` 0/1 → `output`): the hole becomes a flat 0.25 grey,
 * the rest the image. `scale` 255 is Carve's export, whose output is already 0..255.
 */
export function flatLama(scale: 1 | 255): Uint8Array {
  const g = new GraphBuilder(`tiny-lama-${scale}`, 13);
  g.input('image', 'float32', [1, 3, SIDE, SIDE]);
  g.input('mask', 'float32', [1, 1, SIDE, SIDE]);
  const one = g.initializer('one', [], new Float32Array([1]));
  const keep = g.op('Mul', ['image', g.op('Sub', [one, 'mask'])]);
  const fill = g.op('Mul', ['mask', g.initializer('grey', [], new Float32Array([0.25]))]);
  g.op('Mul', [g.op('Add', [keep, fill]), g.initializer('scale', [], new Float32Array([scale]))], {}, 'output');
  g.output('output', 'float32', [1, 3, SIDE, SIDE]);
  return g.toBytes();
}

/** MI-GAN's pipeline signature (uint8 `image` + uint8 `mask`, 255 = keep → one uint8 RGB output): every channel is the mask. */
export function maskEchoMigan(): Uint8Array {
  const g = new GraphBuilder('tiny-migan', 13);
  g.input('image', 'uint8', [1, 3, 'h', 'w']);
  g.input('mask', 'uint8', [1, 1, 'h', 'w']);
  g.op('Concat', ['mask', 'mask', 'mask'], { axis: 1 }, 'result');
  g.output('result', 'uint8', [1, 3, 'h', 'w']);
  return g.toBytes();
}
