import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { guidedCoefficients, refineGuided } from '../../src/tasks/remove-background/guided.js';
import { values } from '../kit/numbers.js';
import { lowResMask, meanError, softEdgeScene, W } from './soft-edge.js';

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
