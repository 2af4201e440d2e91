import assert from 'node:assert/strict';
import fs from 'node:fs';
import { before, describe, test } from 'node:test';
import { pino } from 'pino';
import sharp from 'sharp';
import { testConfig } from '../../src/config.js';
import type { ModelRunner } from '../../src/models/runner.js';
import { float32 } from '../../src/models/tensor.js';
import { parseOptions } from '../../src/tasks/options.js';
import { maskFromOutput } from '../../src/tasks/remove-background/mask.js';
import { segmentationModel } from '../../src/tasks/remove-background/models.js';
import { RemoveBackgroundOptions, removeBackgroundTask } from '../../src/tasks/remove-background.js';
import { directRunner } from '../kit/direct-runner.js';
import { fixture } from '../kit/fixtures.js';
import { validated } from '../kit/images.js';
import { realModelPath } from '../kit/real-models.js';

/**
 * Face centres from the face tests' hand-drawn boxes (original pixels), and two background corners.
 * Foreground means alpha above one half: Meet's weakest face here, group-2's middle one looking
 * down with hair across it, gets 158.
 */
const SUBJECT: Record<string, [number, number][]> = {
  'faces-group-1.jpg': [[510, 455], [915, 510], [1580, 315]],
  'faces-group-2.jpg': [[445, 270], [980, 325], [1510, 270]],
};
const CORNERS = (w: number): [number, number][] => [[40, 40], [w - 40, 40]];

describe('portrait fast path on the real MediaPipe weights', () => {
  let runner: ModelRunner;
  before(async () => {
    runner = directRunner({
      'mediapipe-selfie': fs.readFileSync(await realModelPath('mediapipe-selfie')),
      'mediapipe-meet': fs.readFileSync(await realModelPath('mediapipe-meet')),
    });
  });

  async function mask(buffer: Buffer) {
    const ctx = { runner, config: testConfig(), logger: pino({ level: 'silent' }), signal: new AbortController().signal, onProgress: () => undefined, owner: 'test' };
    const result = await removeBackgroundTask.run(await validated(buffer), parseOptions(RemoveBackgroundOptions, { model: 'portrait', returnMask: true }), ctx);
    assert.equal(result.kind, 'image');
    const { data, info } = await sharp(result.image).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    return { model: result.metadata.model, at: (x: number, y: number) => data[y * info.width + x]!, width: info.width };
  }

  for (const [photo, faces] of Object.entries(SUBJECT)) {
    test(`${photo} (landscape) runs Meet: every face is foreground, the top corners background`, async () => {
      const m = await mask(fixture(photo));
      assert.equal(m.model, 'mediapipe-meet');
      for (const [x, y] of faces) assert.ok(m.at(x, y) > 128, `face at ${x},${y}: ${m.at(x, y)}`);
      for (const [x, y] of CORNERS(m.width)) assert.ok(m.at(x, y) < 30, `corner ${x},${y}: ${m.at(x, y)}`);
    });
  }

  test('a portrait-shaped crop runs the selfie model, with the same result for its face and corners', async () => {
    const crop = await sharp(fixture('faces-group-1.jpg')).extract({ left: 150, top: 0, width: 720, height: 960 }).jpeg().toBuffer();
    const m = await mask(crop);
    assert.equal(m.model, 'mediapipe-selfie');
    assert.ok(m.at(360, 455) > 128, `face: ${m.at(360, 455)}`);
    assert.ok(m.at(30, 30) < 30, `corner: ${m.at(30, 30)}`);
  });
});

test("Meet's [1,H,W,2] background/foreground logits become the foreground's softmax probability", () => {
  const logits = new Float32Array([0, 0, 2, -2, -1, 3, 5, 5]);
  const mask = maskFromOutput(float32(logits, [1, 2, 2, 2]), segmentationModel('mediapipe-meet'));
  const p = (bg: number, fg: number) => Math.round(255 / (1 + Math.exp(bg - fg)));
  assert.deepEqual([...mask.data], [p(0, 0), p(2, -2), p(-1, 3), p(5, 5)]);
  assert.deepEqual([mask.width, mask.height], [2, 2]);
});
