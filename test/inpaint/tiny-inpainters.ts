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

/** MI-GAN's signature (`input` [1,4,512,512] → `output` in −1..1): every channel is input channel 0, 0.5 − mask. */
export function maskEchoMigan(): Uint8Array {
  const g = new GraphBuilder('tiny-migan', 13);
  g.input('input', 'float32', [1, 4, SIDE, SIDE]);
  const w = new Float32Array(3 * 4);
  for (let c = 0; c < 3; c++) w[c * 4] = 1;
  g.op('Conv', ['input', g.initializer('w', [3, 4, 1, 1], w)], {}, 'output');
  g.output('output', 'float32', [1, 3, SIDE, SIDE]);
  return g.toBytes();
}
