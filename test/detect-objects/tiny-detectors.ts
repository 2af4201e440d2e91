import { GraphBuilder } from '../kit/onnx.js';

/** A row of centernet's `tower_0/detections`: corners in 512² input pixels, score, class id. */
export type CenterNetRow = [x1: number, y1: number, x2: number, y2: number, score: number, classId: number];

/**
 * The input's brightest value over `max`, clipped to 0..1, as a scalar (the letterbox's black
 * padding does not dilute it): scores scale with it, so a white photo gives the scores as
 * written and a black one finds nothing (NanoDet's normalised input is about +2.6 on white and
 * −2 on black).
 */
function brightness(g: GraphBuilder, input: string, max: number): string {
  const peak = g.op('ReduceMax', [input], { keepdims: 0 });
  const scalar = (v: number) => g.initializer(g.fresh('c'), [], new Float32Array([v]));
  return g.op('Clip', [g.op('Div', [peak, scalar(max)]), scalar(0), scalar(1)]);
}

/**
 * centernet's signature (`tower_0/images` [1,512,512,3] raw 0–255 → detections [1,100,6],
 * keypoints [1,128,128,80], wh [1,128,128,4]) with fixed rows whose scores are multiplied by the
 * image's brightness.
 */
export function tinyCenterNet(rows: CenterNetRow[]): Uint8Array {
  const g = new GraphBuilder('tiny-centernet', 13);
  g.input('tower_0/images', 'float32', [1, 512, 512, 3]);
  const base = new Float32Array(600);
  const scores = new Float32Array(600);
  rows.forEach((r, i) => r.forEach((v, k) => (k === 4 ? (scores[i * 6 + 4] = v) : (base[i * 6 + k] = v))));
  const k = brightness(g, 'tower_0/images', 255);
  const scaled = g.op('Mul', [g.initializer('scores', [1, 100, 6], scores), k]);
  g.op('Add', [scaled, g.initializer('base', [1, 100, 6], base)], {}, 'tower_0/detections');
  const zero = (name: string, dims: number[]) => g.op('ConstantOfShape', [g.initializer(`${name}_shape`, [4], BigInt64Array.from(dims, BigInt))], {}, name);
  zero('tower_0/keypoints', [1, 128, 128, 80]);
  zero('tower_0/wh', [1, 128, 128, 4]);
  g.output('tower_0/detections', 'float32', [1, 100, 6]);
  g.output('tower_0/keypoints', 'float32', [1, 128, 128, 80]);
  g.output('tower_0/wh', 'float32', [1, 128, 128, 4]);
  return g.toBytes();
}

/** One object for the tiny NanoDet: a cell of the stride-8 grid, a class, and its four distances in bins. */
export interface NanoDetObject {
  row: number;
  col: number;
  classId: number;
  score: number;
  /** left, top, right, bottom distances in bins (× stride 8 = input pixels). */
  bins: [number, number, number, number];
}

/**
 * nanodet's signature (`input_1` [1,3,416,416] → per stride 8/16/32 scores [1,n,80] and
 * distributions [1,n,44]); each object's distance logits put 30 on its bin, so the softmax
 * expectation is that bin to within 1e-11.
 */
export function tinyNanoDet(objects: NanoDetObject[]): Uint8Array {
  const g = new GraphBuilder('tiny-nanodet', 13);
  g.input('input_1', 'float32', [1, 3, 416, 416]);
  const k = brightness(g, 'input_1', 1);
  const levels = [[2704, 'Identity', 'Identity_3'], [676, 'Identity_1', 'Identity_4'], [169, 'Identity_2', 'Identity_5']] as const;
  levels.forEach(([cells, scoresName, distName], level) => {
    const scores = new Float32Array(cells * 80);
    const dist = new Float32Array(cells * 44);
    if (level === 0) {
      for (const o of objects) {
        const cell = o.row * 52 + o.col;
        scores[cell * 80 + o.classId] = o.score;
        o.bins.forEach((b, side) => (dist[cell * 44 + side * 11 + b] = 30));
      }
    }
    g.op('Mul', [g.initializer(`${scoresName}_c`, [1, cells, 80], scores), k], {}, scoresName);
    g.op('Identity', [g.initializer(`${distName}_c`, [1, cells, 44], dist)], {}, distName);
    g.output(scoresName, 'float32', [1, cells, 80]);
    g.output(distName, 'float32', [1, cells, 44]);
  });
  return g.toBytes();
}
