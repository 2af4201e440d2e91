import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ssrNetDecode } from '../../src/tasks/face/age-gender.js';
import { ARCFACE_112, applyAffine, invertAffine, similarityTransform } from '../../src/tasks/face/align.js';
import { decodeBlazeHead } from '../../src/tasks/face/blazeface.js';
import { decodeUltraFace } from '../../src/tasks/face/detect.js';
import { iou, letterbox, nms, squareCrop, unletterboxBox } from '../../src/tasks/face/geometry.js';
import { fivePoints } from '../../src/tasks/face/landmarks.js';
import { binnedAngle } from '../../src/tasks/face/pose.js';
import { cropResize, toChw, warp, IMAGENET, type RgbImage } from '../../src/tasks/face/raster.js';
import type { Outputs } from '../../src/models/tensor.js';

const box = (x1: number, y1: number, x2: number, y2: number, score = 1) => ({ x1, y1, x2, y2, score });

describe('non-maximum suppression', () => {
  test('keeps the higher-scoring of two overlapping boxes and every separate one', () => {
    const kept = nms([box(0, 0, 10, 10, 0.8), box(1, 1, 11, 11, 0.9), box(50, 50, 60, 60, 0.7)], 0.4);
    assert.deepEqual(kept.map((b) => b.score), [0.9, 0.7]);
  });

  test('keeps both boxes when their overlap is under the threshold', () => {
    const a = box(0, 0, 10, 10, 0.9);
    const b = box(7, 0, 17, 10, 0.8); // IoU 30/170
    assert.ok(iou(a, b) < 0.2);
    assert.equal(nms([a, b], 0.4).length, 2);
  });

  test('stops at the limit, highest scores first', () => {
    const boxes = [0.5, 0.9, 0.7].map((s, i) => box(i * 20, 0, i * 20 + 10, 10, s));
    assert.deepEqual(nms(boxes, 0.4, 2).map((b) => b.score), [0.9, 0.7]);
  });
});

describe('letterbox coordinate mapping', () => {
  test('a wide image is centred vertically and boxes map back to original pixels', () => {
    const lb = letterbox({ width: 640, height: 240 }, { width: 320, height: 240 });
    assert.deepEqual([lb.resized.width, lb.resized.height, lb.padX, lb.padY], [320, 120, 0, 60]);
    const back = unletterboxBox({ x1: 80, y1: 120, x2: 160, y2: 180 }, lb, { width: 640, height: 240 });
    assert.deepEqual(back, { x1: 160, y1: 120, x2: 320, y2: 240 });
  });

  test('a tall image is centred horizontally and boxes are clipped to the image', () => {
    const lb = letterbox({ width: 100, height: 400 }, { width: 320, height: 240 });
    assert.equal(lb.resized.height, 240);
    assert.equal(lb.padX, Math.floor((320 - lb.resized.width) / 2));
    const back = unletterboxBox({ x1: 0, y1: -5, x2: 320, y2: 240 }, lb, { width: 100, height: 400 });
    assert.deepEqual(back, { x1: 0, y1: 0, x2: 100, y2: 400 });
  });

  test('UltraFace boxes over the threshold are scaled to model-input pixels', () => {
    const scores = new Float32Array([0.9, 0.1, 0.2, 0.8]);
    const boxes = new Float32Array([0, 0, 1, 1, 0.25, 0.5, 0.5, 0.75]);
    const out = decodeUltraFace(scores, boxes, 0.7, { width: 320, height: 240 });
    assert.deepEqual(out.map((b) => [b.x1, b.y1, b.x2, b.y2]), [[80, 120, 160, 180]]);
  });

  test('BlazeFace offsets are taken from the anchor centre of their cell', () => {
    const cells = 2;
    const scores = new Float32Array(cells * cells).fill(-10);
    scores[3] = 5; // cell (1,1): centre (96, 96) in a 128 input
    const boxes = new Float32Array(cells * cells * 16);
    boxes.set([4, -2, 20, 30, 0, 0, 1, 1], 3 * 16);
    const [c] = decodeBlazeHead(scores, boxes, cells, 1, 128, 0.5);
    assert.ok(c);
    assert.deepEqual([c.x1, c.y1, c.x2, c.y2], [90, 79, 110, 109]);
    assert.deepEqual(c.keypoints[1], { x: 97, y: 97 });
    assert.ok(c.score > 0.99);
  });
});

describe('crops', () => {
  test('the square crop keeps the box centre, grows by the scale and shifts inside the image', () => {
    const r = squareCrop({ x1: 40, y1: 40, x2: 60, y2: 60 }, { width: 200, height: 200 }, 2);
    assert.deepEqual(r, { x: 30, y: 30, width: 40, height: 40 });
    const edge = squareCrop({ x1: 0, y1: 0, x2: 20, y2: 20 }, { width: 200, height: 200 }, 2);
    assert.deepEqual(edge, { x: 0, y: 0, width: 40, height: 40 });
  });

  test('cropResize of a 2×2 block at its own size copies the pixels', () => {
    const img = checker(4, 4);
    const out = cropResize(img, { x: 2, y: 2, width: 2, height: 2 }, 2, 2);
    assert.deepEqual([...out.subarray(0, 3)], [...img.data.subarray((2 * 4 + 2) * 3, (2 * 4 + 2) * 3 + 3)]);
  });

  test('warp samples outside the image as black', () => {
    const img: RgbImage = { data: new Uint8Array(4 * 4 * 3).fill(200), width: 4, height: 4 };
    const out = warp(img, [1, 0, 10, 0, 1, 10], 2, 2);
    assert.deepEqual([...out], new Array(12).fill(0));
  });

  test('warp matches a plain bilinear sample on interior rows, rows crossing the border and rotations', () => {
    const w = 40;
    const h = 30;
    const img: RgbImage = { data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 7919) % 256), width: w, height: h };
    const at = (x: number, y: number, c: number) => img.data[(Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * 3 + c]!;
    const reference = (sx: number, sy: number, c: number) => {
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) return 0;
      const fx = sx - x0;
      const fy = sy - y0;
      return Math.floor(at(x0, y0, c) * (1 - fx) * (1 - fy) + at(x0 + 1, y0, c) * fx * (1 - fy)
        + at(x0, y0 + 1, c) * (1 - fx) * fy + at(x0 + 1, y0 + 1, c) * fx * fy + 0.5);
    };
    const maps: [number, number, number, number, number, number][] = [
      [0.7, 0, 5.3, 0, 0.7, 4.1], // wholly inside
      [1.3, 0, -6.2, 0, 1.3, -3.7], // past the left and top edges
      [Math.cos(0.5), -Math.sin(0.5), 20, Math.sin(0.5), Math.cos(0.5), 2], // rotated, leaving the image
    ];
    for (const m of maps) {
      const out = warp(img, m, 24, 24);
      for (let dy = 0; dy < 24; dy++) {
        for (let dx = 0; dx < 24; dx++) {
          for (let c = 0; c < 3; c++) {
            const want = reference(m[0] * dx + m[1] * dy + m[2], m[3] * dx + m[4] * dy + m[5], c);
            const got = out[(dy * 24 + dx) * 3 + c]!;
            assert.ok(Math.abs(got - want) <= 1, `map ${m.join(',')} at (${dx},${dy},${c}): ${got} vs ${want}`);
          }
        }
      }
    }
  });

  test('BGR packing puts blue in plane 0 with plane 0 normalisation', () => {
    const out = new Float32Array(3);
    toChw(new Uint8Array([255, 0, 0]), 1, IMAGENET, out, 0, true);
    assert.ok(Math.abs(out[0]! - (0 - IMAGENET.mean[0]) / IMAGENET.std[0]) < 1e-6);
    assert.ok(Math.abs(out[2]! - (255 - IMAGENET.mean[2]) / IMAGENET.std[2]) < 1e-6);
  });
});

describe('alignment', () => {
  test('the similarity estimate recovers a known rotation, scale and shift exactly', () => {
    const theta = 0.3;
    const s = 1.7;
    const truth = [s * Math.cos(theta), -s * Math.sin(theta), 12, s * Math.sin(theta), s * Math.cos(theta), -5] as const;
    const src = ARCFACE_112.map((p) => ({ x: p.x * 2 + 100, y: p.y * 2 + 40 }));
    const dst = src.map((p) => applyAffine([...truth], p));
    const m = similarityTransform(src, dst);
    m.forEach((v, i) => assert.ok(Math.abs(v - truth[i]!) < 1e-9, `coefficient ${i}: ${v} vs ${truth[i]}`));
  });

  test('noisy points are fitted in the least-squares sense, the centroid mapping exactly', () => {
    const src = ARCFACE_112.map((p, i) => ({ x: p.x + (i % 2 ? 1.5 : -1.5), y: p.y }));
    const m = similarityTransform(src, ARCFACE_112);
    const centroid = (pts: readonly { x: number; y: number }[]) => ({
      x: pts.reduce((a, p) => a + p.x, 0) / pts.length,
      y: pts.reduce((a, p) => a + p.y, 0) / pts.length,
    });
    const mapped = applyAffine(m, centroid(src));
    const target = centroid(ARCFACE_112);
    assert.ok(Math.abs(mapped.x - target.x) < 1e-9 && Math.abs(mapped.y - target.y) < 1e-9);
  });

  test('inverting an affine and applying both returns the point', () => {
    const m = similarityTransform([{ x: 0, y: 0 }, { x: 10, y: 0 }], [{ x: 5, y: 5 }, { x: 5, y: 25 }]);
    const p = applyAffine(invertAffine(m), applyAffine(m, { x: 3, y: 7 }));
    assert.ok(Math.abs(p.x - 3) < 1e-9 && Math.abs(p.y - 7) < 1e-9);
  });

  test('68 landmarks reduce to eye centres, nose tip and mouth corners', () => {
    const pts = Array.from({ length: 68 }, (_, i) => ({ x: i, y: 2 * i }));
    const five = fivePoints(pts);
    assert.deepEqual(five[0], { x: (37 + 38 + 40 + 41) / 4, y: (2 * (37 + 38 + 40 + 41)) / 4 });
    assert.deepEqual(five[2], { x: 30, y: 60 });
    assert.deepEqual(five[4], { x: (54 + 64) / 2, y: 54 + 64 });
  });
});

describe('attribute decoding', () => {
  const ssr = (p1: number[], p2: number[], p3: number[], delta = [0, 0, 0], eta = [0, 0, 0]): Outputs => {
    const t = (v: number[]) => ({ type: 'float32' as const, dims: [1, v.length], data: new Float32Array(v) });
    return {
      prob_stage_1: t(p1), prob_stage_2: t(p2), prob_stage_3: t(p3),
      stage1_delta_k: t([delta[0]!]), stage2_delta_k: t([delta[1]!]), stage3_delta_k: t([delta[2]!]),
      index_offset_stage1: t(eta), index_offset_stage2: t(eta), index_offset_stage3: t(eta),
    };
  };

  test('SSR-Net sums the stage expectations over the shrinking bin widths', () => {
    // stage 1 bin 2 → 2/3, stage 2 bin 1 → 1/9, stage 3 bin 0 → 0: (2/3 + 1/9) · 101
    const age = ssrNetDecode(ssr([0, 0, 1], [0, 1, 0], [1, 0, 0]), 'face-age', 101);
    assert.ok(Math.abs(age - (2 / 3 + 1 / 9) * 101) < 1e-4);
  });

  test('SSR-Net bin offsets and width scaling shift the value', () => {
    const plain = ssrNetDecode(ssr([0, 1, 0], [0, 1, 0], [0, 1, 0]), 'face-gender', 1);
    const shifted = ssrNetDecode(ssr([0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 0], [0.5, 0.5, 0.5]), 'face-gender', 1);
    const widened = ssrNetDecode(ssr([0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]), 'face-gender', 1);
    assert.ok(shifted > plain);
    assert.ok(widened < plain);
  });

  test('a pose head peaked at bin 33 reads 0°, at bin 43 reads 30°', () => {
    const bins = (peak: number) => { const b = new Float32Array(66); b[peak] = 30; return b; };
    assert.equal(binnedAngle(bins(33)), 0);
    assert.equal(binnedAngle(bins(43)), 30);
  });
});

function checker(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set([i * 10, 255 - i * 10, (i * 37) % 256], i * 3);
  return { data, width, height };
}
