import { GraphBuilder } from '../kit/onnx.js';

/**
 * Tiny models with the faceplugin models' input/output names and shapes, so the whole face
 * pipeline runs in tests without downloads. Outputs depend on the input through per-channel
 * means, so different crops give different results while a constant part fixes what matters.
 */

/** [B,C,H,W] → per-channel mean [B,C]. */
function channelMeans(g: GraphBuilder, input: string): string {
  const m = g.op('ReduceMean', [input], { axes: [2, 3], keepdims: 0 });
  return m;
}

/** A dense layer from channel means: [B,C] × W[C,n] + b[n] → [B,n]. */
function dense(g: GraphBuilder, x: string, weights: Float32Array, bias: Float32Array, out?: string): string {
  const n = bias.length;
  const c = weights.length / n;
  const w = g.initializer(g.fresh('w'), [c, n], weights);
  const b = g.initializer(g.fresh('b'), [n], bias);
  return g.op('Add', [g.op('MatMul', [x, w]), b], {}, out);
}

export interface TinyBox {
  /** Normalised x1, y1, x2, y2 in the 320×240 model input. */
  box: [number, number, number, number];
  score: number;
}

/**
 * fr_detect's signature: `input` [1,3,240,320] → `scores` [1,4420,2], `boxes` [1,4420,4]. The
 * given boxes come out at fixed anchors whatever the image; every other anchor scores 0.01.
 */
export function tinyDetector(faces: readonly TinyBox[], anchors = 4420): Uint8Array {
  const g = new GraphBuilder('tiny-ultraface');
  g.input('input', 'float32', [1, 3, 240, 320]);
  const scores = new Float32Array(anchors * 2);
  const boxes = new Float32Array(anchors * 4);
  for (let i = 0; i < anchors; i++) {
    scores[2 * i] = 0.99;
    scores[2 * i + 1] = 0.01;
  }
  faces.forEach((f, k) => {
    const i = 100 + k * 37;
    scores[2 * i] = 1 - f.score;
    scores[2 * i + 1] = f.score;
    boxes.set(f.box, 4 * i);
  });
  // zero × mean(input), so the output is a function of the input as ONNX requires of a real graph
  const zero = g.op('Mul', [g.op('ReduceMean', ['input'], { keepdims: 1 }), g.initializer('zero', [1], new Float32Array([0]))]);
  const flat = g.op('Reshape', [zero, g.initializer('shape3', [3], new BigInt64Array([1n, 1n, 1n]))]);
  g.op('Add', [flat, g.initializer('scores_c', [1, anchors, 2], scores)], {}, 'scores');
  g.op('Add', [flat, g.initializer('boxes_c', [1, anchors, 4], boxes)], {}, 'boxes');
  g.output('scores', 'float32', [1, anchors, 2]);
  g.output('boxes', 'float32', [1, anchors, 4]);
  return g.toBytes();
}

/** A plausible frontal face's 68 points as fractions of the landmark crop (eyes, nose, mouth placed). */
export function canonicalLandmarks(): Float32Array {
  const pts = new Float32Array(136);
  for (let i = 0; i < 68; i++) {
    pts[2 * i] = 0.2 + 0.6 * ((i % 17) / 16);
    pts[2 * i + 1] = 0.8;
  }
  const set = (idx: number[], x: number, y: number) => idx.forEach((i) => { pts[2 * i] = x; pts[2 * i + 1] = y; });
  set([36, 37, 38, 39, 40, 41], 0.35, 0.4);
  set([42, 43, 44, 45, 46, 47], 0.65, 0.4);
  set([30], 0.5, 0.55);
  set([48, 60], 0.38, 0.72);
  set([54, 64], 0.62, 0.72);
  return pts;
}

/** fr_landmark's signature: `input` [batch,1,64,64] → `output` [batch,136], the canonical points. */
export function tinyLandmarks(): Uint8Array {
  const g = new GraphBuilder('tiny-landmark');
  g.input('input', 'float32', ['batch', 1, 64, 64]);
  const m = channelMeans(g, 'input');
  dense(g, m, new Float32Array(136), canonicalLandmarks(), 'output');
  g.output('output', 'float32', ['batch', 136]);
  return g.toBytes();
}

/**
 * A per-face model from channel means: `input` [batch,3,s,s] → named outputs [batch,n] with
 * fixed weights and biases. `batch` is symbolic like the store's converted models, or fixed.
 */
export function tinyHeads(
  size: number,
  heads: Record<string, { weights?: Float32Array; bias: Float32Array }>,
  batch: number | string = 'batch',
): Uint8Array {
  const g = new GraphBuilder('tiny-heads');
  g.input('input', 'float32', [batch, 3, size, size]);
  const m = channelMeans(g, 'input');
  for (const [name, h] of Object.entries(heads)) {
    dense(g, m, h.weights ?? new Float32Array(3 * h.bias.length), h.bias, name);
    g.output(name, 'float32', [batch, h.bias.length]);
  }
  return g.toBytes();
}

/** fr_feature's signature: 512 outputs that depend on the crop's colour. */
export function tinyEmbedder(batch: number | string = 'batch'): Uint8Array {
  const w = new Float32Array(3 * 512);
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(i * 12.9898) * 43758.5453 % 1;
  return tinyHeads(112, { output: { weights: w, bias: new Float32Array(512) } }, batch);
}

const f = (...v: number[]) => new Float32Array(v);

/** SSR-Net heads (age or gender): fixed stage outputs, so the decoded value is known exactly. */
export function tinySsrNet(): Uint8Array {
  return tinyHeads(64, {
    prob_stage_1: { bias: f(0, 1, 0) },
    prob_stage_2: { bias: f(0, 0, 1) },
    prob_stage_3: { bias: f(1, 0, 0) },
    stage1_delta_k: { bias: f(0) },
    stage2_delta_k: { bias: f(0) },
    stage3_delta_k: { bias: f(0) },
    index_offset_stage1: { bias: f(0, 0, 0) },
    index_offset_stage2: { bias: f(0, 0, 0) },
    index_offset_stage3: { bias: f(0, 0, 0) },
  });
}

/** Every face model of the pipeline, by model id, for directRunner. */
export function tinyFaceModels(faces: readonly TinyBox[]): Record<string, Uint8Array> {
  const bins = new Float32Array(66);
  bins[33] = 20; // expectation at bin 33 → 33·3 − 99 = 0°
  return {
    'face-detect': tinyDetector(faces),
    'face-landmark': tinyLandmarks(),
    'face-embed': tinyEmbedder(),
    'face-antispoof': tinyHeads(128, { output: { bias: f(4, 0, 0) } }),
    'face-age': tinySsrNet(),
    'face-gender': tinySsrNet(),
    'face-pose': tinyHeads(224, { output: { bias: bins }, 617: { bias: bins }, 618: { bias: bins } }),
    'face-expression': tinyHeads(224, { output: { bias: f(0, 0, 0, 9, 0, 0, 0) } }),
  };
}
