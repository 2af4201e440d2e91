import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alphaMatte, trimap, UNKNOWN } from '../../src/tasks/remove-background/matting.js';
import { lowResMask, meanError, softEdgeScene } from './soft-edge.js';

const REMBG_DEFAULTS = { foregroundThreshold: 240, backgroundThreshold: 10, erodeSize: 10 };

describe('alpha matting (trimap + closed-form solve)', () => {
  test('the trimap marks sure subject above af and sure background below ab, each eroded by ae', () => {
    const w = 30;
    const data = new Uint8Array(w * w);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) data[y * w + x] = x < 10 ? 0 : x < 20 ? 128 : 255;
    const tri = trimap({ data, width: w, height: w }, { foregroundThreshold: 240, backgroundThreshold: 10, erodeSize: 4 });
    const row = Array.from(tri.subarray(15 * w, 16 * w));
    // A 4-wide square reaches 2 back and 1 ahead (scipy's anchoring): the background (columns 0–9,
    // the border counting as background) loses column 9; the subject (20–29, border not subject) loses 20, 21 and 29.
    assert.deepEqual(row.map((v) => (v === UNKNOWN ? 'u' : v === 255 ? 'f' : 'b')).join(''), 'b'.repeat(9) + 'u'.repeat(13) + 'f'.repeat(7) + 'u');
  });

  test('on a soft edge with thin strands, the matte is far closer to the true alpha than the low-resolution mask', async () => {
    const { photo, alpha } = softEdgeScene();
    const raw = lowResMask(alpha);
    const matte = await alphaMatte(photo, raw, REMBG_DEFAULTS);
    const [before, after] = [meanError(raw, alpha), meanError(matte, alpha)];
    assert.ok(after < 0.25 * before, `mean |alpha error| ${before.toFixed(4)} → ${after.toFixed(4)}`);
  });
});
