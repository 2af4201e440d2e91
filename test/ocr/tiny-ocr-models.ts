import { GraphBuilder } from '../kit/onnx.js';

/** The tiny recogniser's character list: CTC classes blank, "x", "y", space. */
export const TINY_KEYS = 'x\ny\n';

/** PP-OCRv4 det's signature: the map is high where the (ImageNet-normalised) pixel is dark. */
export function darkMapDetector(): Uint8Array {
  const g = new GraphBuilder('tiny-ocr-det', 13);
  g.input('x', 'float32', [1, 3, 'h', 'w']);
  const mean = g.op('ReduceMean', ['x'], { axes: [1], keepdims: 1 });
  g.op('Sigmoid', [g.op('Mul', [mean, g.initializer('k', [], new Float32Array([-3]))])], {}, 'sigmoid_0.tmp_0');
  g.output('sigmoid_0.tmp_0', 'float32', [1, 1, 'h', 'w']);
  return g.toBytes();
}

/**
 * PP-OCRv4 rec's signature [n,3,48,w] → [n, w/8, classes]: an 8-px column holding any dark pixel
 * is "x", a light one blank, and the batch's padding (value 0) blank too, so a crop around one dark
 * bar reads "x".
 */
export function darkColumnRecogniser(): Uint8Array {
  const g = new GraphBuilder('tiny-ocr-rec', 13);
  g.input('x', 'float32', [-1, 3, 48, 'w']);
  const negated = g.op('Neg', [g.op('ReduceMean', ['x'], { axes: [1], keepdims: 1 })]);
  const darkness = g.op('MaxPool', [negated], { kernel_shape: [48, 8], strides: [48, 8] });
  // logits per class: blank 0, x = 20·darkness − 10 (dark 10, padding −10, light −30), y and space never
  const w = g.initializer('w', [4, 1, 1, 1], new Float32Array([0, 20, 0, 0]));
  const b = g.initializer('b', [4], new Float32Array([0, -10, -50, -50]));
  const logits = g.op('Conv', [darkness, w, b]);
  const steps = g.op('Transpose', [g.op('Squeeze', [logits, g.initializer('axis', [1], new BigInt64Array([2n]))])], { perm: [0, 2, 1] });
  g.op('Softmax', [steps], { axis: 2 }, 'softmax_11.tmp_0');
  g.output('softmax_11.tmp_0', 'float32', [-1, 't', 4]);
  return g.toBytes();
}

/** The direction classifier's signature [n,3,48,192] → [n,2], answering "180°" with 0.95 for every line. */
export function alwaysTurnedClassifier(): Uint8Array {
  const g = new GraphBuilder('tiny-ocr-cls', 13);
  g.input('x', 'float32', [-1, 3, 48, 192]);
  const zero = g.op('Mul', [g.op('ReduceMean', ['x'], { axes: [1, 2, 3], keepdims: 0 }), g.initializer('z', [], new Float32Array([0]))]);
  const n = g.op('Unsqueeze', [zero, g.initializer('ax', [1], new BigInt64Array([1n]))]);
  g.op('Add', [n, g.initializer('p', [1, 2], new Float32Array([0.05, 0.95]))], {}, 'softmax_0.tmp_0');
  g.output('softmax_0.tmp_0', 'float32', [-1, 2]);
  return g.toBytes();
}
