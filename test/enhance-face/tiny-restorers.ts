import { GraphBuilder } from '../kit/onnx.js';

const SHAPE = [1, 3, 512, 512];

/** GFPGAN's signature (`input` −1..1 → `output` −1..1): the colour negative, so its paste is easy to see. */
export function negativeGfpgan(): Uint8Array {
  const g = new GraphBuilder('tiny-gfpgan', 13);
  g.input('input', 'float32', SHAPE);
  g.op('Neg', ['input'], {}, 'output');
  g.output('output', 'float32', SHAPE);
  return g.toBytes();
}

/** CodeFormer's signature (`input` + float64 `weight` [1]): the input scaled by the weight (0 = mid-grey). */
export function weightedCodeformer(): Uint8Array {
  const g = new GraphBuilder('tiny-codeformer', 13);
  g.input('input', 'float32', SHAPE);
  g.input('weight', 'float64', [1]);
  g.op('Mul', ['input', g.op('Cast', ['weight'], { to: 1 })], {}, 'output');
  g.output('output', 'float32', SHAPE);
  return g.toBytes();
}

/** Real-ESRGAN ×4's signature (`data` → `output` at 4×): nearest-neighbour enlargement. */
export function nearestX4(): Uint8Array {
  const g = new GraphBuilder('tiny-x4', 13);
  g.input('data', 'float32', [1, 3, 'h', 'w']);
  const scales = g.initializer('scales', [4], new Float32Array([1, 1, 4, 4]));
  g.op('Resize', ['data', g.initializer('roi', [0], new Float32Array([])), scales], { mode: 'nearest' }, 'output');
  g.output('output', 'float32', [1, 3, 'h4', 'w4']);
  return g.toBytes();
}
