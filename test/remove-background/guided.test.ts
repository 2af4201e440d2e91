import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { guidedCoefficients, refineGuided } from '../../src/tasks/remove-background/guided.js';
import type { Mask } from '../../src/tasks/remove-background/mask.js';
import type { RawImage } from '../../src/image/raw.js';
import { values } from '../kit/numbers.js';

const W = 320;
const H = 240;

/**
 * A disc with a soft rim and a ring of thin "strands" (true alpha known per pixel), composited
 * from a textured red foreground over a textured blue background.
 */
function softEdgeScene(): { photo: RawImage; alpha: Float32Array } {
  const alpha = new Float32Array(W * H);
  const noise = values(W * H, 11, -12, 12);
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const d = Math.hypot(x - 160, y - 120);
    const angle = Math.atan2(y - 120, x - 160);
    const strand = d > 80 && d < 100 && Math.abs(Math.sin(angle * 24)) > 0.97 ? 0.8 : 0;
    const a = Math.max(1 / (1 + Math.exp((d - 80) / 2)), strand);
    const i = y * W + x;
    alpha[i] = a;
    const n = noise[i]!;
    const fg = [200 + n, 60 + n, 40];
    const bg = [40, 90 + n, 200 + n];
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(a * fg[c]! + (1 - a) * bg[c]!);
  }
  return { photo: { data, width: W, height: H, channels: 3 }, alpha };
}

/** What a segmenter gives: the true alpha seen at 1/8 resolution, stretched back bilinearly. */
function lowResMask(alpha: Float32Array): Mask {
  const s = 8;
  const sw = W / s;
  const sh = H / s;
  const small = new Float32Array(sw * sh);
  for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) {
    let sum = 0;
    for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) sum += alpha[(y * s + dy) * W + x * s + dx]!;
    small[y * sw + x] = sum / (s * s);
  }
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const fx = Math.min(Math.max((x + 0.5) / s - 0.5, 0), sw - 1);
    const fy = Math.min(Math.max((y + 0.5) / s - 0.5, 0), sh - 1);
    const [x0, y0] = [Math.floor(fx), Math.floor(fy)];
    const [x1, y1] = [Math.min(x0 + 1, sw - 1), Math.min(y0 + 1, sh - 1)];
    const [tx, ty] = [fx - x0, fy - y0];
    const v = (small[y0 * sw + x0]! * (1 - tx) + small[y0 * sw + x1]! * tx) * (1 - ty) + (small[y1 * sw + x0]! * (1 - tx) + small[y1 * sw + x1]! * tx) * ty;
    data[y * W + x] = Math.round(v * 255);
  }
  return { data, width: W, height: H };
}

const meanError = (mask: Mask, alpha: Float32Array) => mask.data.reduce((s, v, i) => s + Math.abs(v / 255 - alpha[i]!), 0) / alpha.length;

describe('guided-filter matte refinement', () => {
  test('an input that is a linear function of the guide comes back unchanged', () => {
    const [w, h] = [24, 18];
    const guide = [0, 1, 2].map((c) => Float32Array.from(values(w * h, 3 + c, 0, 1))) as [Float32Array, Float32Array, Float32Array];
    const p = guide[0].map((r, i) => 0.3 * r - 0.2 * guide[1][i]! + 0.1 * guide[2][i]! + 0.25);
    const [aR, aG, aB, b] = guidedCoefficients(guide, p, w, h, 3, 1e-8);
    let worst = 0;
    for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(aR![i]! * guide[0][i]! + aG![i]! * guide[1][i]! + aB![i]! * guide[2][i]! + b![i]! - p[i]!));
    assert.ok(worst < 1e-3, `worst deviation ${worst}`);
  });

  test('on a soft edge with thin strands, the refined matte is much closer to the true alpha than the stretched low-resolution mask', async () => {
    const { photo, alpha } = softEdgeScene();
    const raw = lowResMask(alpha);
    const refined = await refineGuided(photo, raw);
    const [before, after] = [meanError(raw, alpha), meanError(refined, alpha)];
    assert.ok(after < 0.5 * before, `mean |alpha error| ${before.toFixed(4)} → ${after.toFixed(4)}`);
    assert.equal(refined.width, W);
    assert.ok(refined.data[120 * W + 160]! > 240 && refined.data[5 * W + 5]! < 15, 'inside stays opaque, far outside transparent');
  });
});
