import assert from 'node:assert/strict';
import fs from 'node:fs';
import { before, describe, test } from 'node:test';
import { pino } from 'pino';
import { testConfig } from '../../src/config.js';
import { iou, type Box } from '../../src/image/geometry.js';
import type { ModelRunner } from '../../src/models/runner.js';
import { DetectObjectsOptions, detectObjectsTask } from '../../src/tasks/detect-objects.js';
import type { ObjectDetection } from '../../src/tasks/detect-objects/detection.js';
import { DETECTOR_IDS } from '../../src/tasks/detect-objects/models.js';
import { parseOptions } from '../../src/tasks/options.js';
import { directRunner } from '../kit/direct-runner.js';
import { fixture } from '../kit/fixtures.js';
import { validated } from '../kit/images.js';
import { realModelPath } from '../kit/real-models.js';

/**
 * Where the people and the cup are, read off the photos by eye on a 200-px grid drawn over them:
 * head top to the photo's bottom edge (everyone is cut off by it), outermost arm or hair to the
 * other side, in original pixels.
 */
const PERSONS: Record<string, Box[]> = {
  'faces-group-1.jpg': [
    { x1: 170, y1: 210, x2: 770, y2: 1280 },
    { x1: 740, y1: 310, x2: 1260, y2: 1280 },
    { x1: 1240, y1: 180, x2: 1830, y2: 1280 },
  ],
  'faces-group-2.jpg': [
    { x1: 40, y1: 40, x2: 900, y2: 1367 },
    { x1: 810, y1: 80, x2: 1330, y2: 1367 },
    { x1: 1180, y1: 30, x2: 1880, y2: 1367 },
  ],
};
/** The frosted cup in the foreground of objects-lounge.jpg. */
const CUP: Box = { x1: 1235, y1: 1205, x2: 1425, y2: 1350 };

const corners = (d: ObjectDetection): Box => ({ x1: d.box.x, y1: d.box.y, x2: d.box.x + d.box.width, y2: d.box.y + d.box.height });

describe('object detection with the real converted weights', () => {
  let runner: ModelRunner;
  before(async () => {
    const models: Record<string, Uint8Array> = {};
    for (const id of DETECTOR_IDS) models[id] = fs.readFileSync(await realModelPath(id));
    runner = directRunner(models);
  });

  async function detect(name: string, model: string): Promise<ObjectDetection[]> {
    const ctx = { runner, config: testConfig(), logger: pino({ level: 'silent' }), signal: new AbortController().signal, onProgress: () => undefined, owner: 'test' };
    const result = await detectObjectsTask.run(await validated(fixture(name)), parseOptions(DetectObjectsOptions, { model }), ctx);
    return (result as { data: { detections: ObjectDetection[] } }).data.detections;
  }

  for (const model of DETECTOR_IDS) {
    for (const [photo, people] of Object.entries(PERSONS)) {
      test(`${model}: every person on ${photo} is detected as a person (box IoU ≥ 0.5, default minScore)`, async () => {
        const persons = (await detect(photo, model)).filter((d) => d.label === 'person');
        for (const [i, want] of people.entries()) {
          const best = Math.max(0, ...persons.map((d) => iou(corners(d), want)));
          assert.ok(best >= 0.5, `person ${i}: best IoU ${best.toFixed(2)} among ${persons.length} person boxes`);
        }
      });
    }

    test(`${model}: the cup in the foreground of objects-lounge.jpg comes back as "cup"`, async () => {
      const cups = (await detect('objects-lounge.jpg', model)).filter((d) => d.label === 'cup');
      const best = Math.max(0, ...cups.map((d) => iou(corners(d), CUP)));
      assert.ok(best >= 0.5, `best cup IoU ${best.toFixed(2)} among ${cups.length} cups`);
    });
  }
});
