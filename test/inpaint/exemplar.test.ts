import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inpaintPatchMatch } from '../../src/tasks/inpaint/patchmatch.js';
import { inpaintTelea } from '../../src/tasks/inpaint/telea.js';
import { componentBoxes, workAreas } from '../../src/tasks/inpaint/regions.js';
import { blurFill, gradientScene, holeDetail, holeRms, objectLeft, stripesScene, textureScene, type Scene } from './scenes.js';

const pm = (s: Scene) => inpaintPatchMatch(s.photo, s.hole, s.width, s.height, { patchSize: 7, seed: 1 });
const radiusOf = (s: Scene) => Math.ceil(Math.min(s.width, s.height) / 6) + 4;

function unchangedOutside(s: Scene, out: Uint8Array): boolean {
  for (let i = 0; i < s.width * s.height; i++) {
    if (s.hole[i]) continue;
    for (let c = 0; c < 3; c++) if (out[i * 3 + c] !== s.photo[i * 3 + c]) return false;
  }
  return true;
}

test('patchmatch on stripes continues them through the hole: error far below the blur fill, pixels outside untouched', () => {
  const s = stripesScene();
  const out = pm(s);
  const [mine, blur] = [holeRms(s, out), holeRms(s, blurFill(s, radiusOf(s)))];
  assert.ok(mine < blur / 3, `rms ${mine.toFixed(1)} vs blur fill ${blur.toFixed(1)}`);
  assert.equal(objectLeft(s, out), 0);
  assert.ok(unchangedOutside(s, out));
});

test('patchmatch on a textured background removes the object and keeps the grain (a blur fill has none)', () => {
  const s = textureScene();
  const out = pm(s);
  assert.equal(objectLeft(s, out), 0, 'no red left in the hole');
  const [truth, mine, blur] = [holeDetail(s, s.truth), holeDetail(s, out), holeDetail(s, blurFill(s, radiusOf(s)))];
  assert.ok(mine > 0.5 * truth && mine < 2 * truth, `grain in the hole ${mine.toFixed(0)} vs the background's ${truth.toFixed(0)}`);
  assert.ok(blur < 0.1 * truth, `the blur fill is smooth: ${blur.toFixed(0)}`);
  assert.ok(holeRms(s, out) < holeRms(s, blurFill(s, radiusOf(s))) * 1.6, 'and the colours stay those of the background');
  assert.ok(unchangedOutside(s, out));
});

test('patchmatch carries a smooth gradient through the hole (bias-compensated patches), telea follows it too; patchmatch is deterministic for a seed', () => {
  const s = gradientScene();
  const blur = holeRms(s, blurFill(s, radiusOf(s)));
  const telea = inpaintTelea(s.photo, s.hole, s.width, s.height);
  assert.ok(holeRms(s, telea) < blur, `telea ${holeRms(s, telea).toFixed(1)} vs blur ${blur.toFixed(1)}`);
  const out = pm(s);
  assert.ok(holeRms(s, out) < blur / 5, `patchmatch ${holeRms(s, out).toFixed(1)} vs blur ${blur.toFixed(1)}`);
  assert.deepEqual(pm(s), out);
  assert.ok(unchangedOutside(s, telea) && unchangedOutside(s, out));
});

test('telea closes a thin scratch almost invisibly', () => {
  const base = gradientScene(160, 120);
  const hole = new Uint8Array(base.width * base.height);
  for (let x = 10; x < 150; x++) for (let y = 59; y < 62; y++) hole[y * base.width + x] = 1;
  const photo = new Uint8Array(base.truth);
  for (let i = 0; i < hole.length; i++) if (hole[i]) photo.set([255, 255, 255], i * 3);
  const s = { ...base, photo, hole };
  assert.ok(holeRms(s, inpaintTelea(photo, hole, s.width, s.height)) < 3);
});

test('a hole that leaves no complete patch anywhere still gets filled (telea)', () => {
  const s = gradientScene(20, 20);
  const hole = new Uint8Array(400).fill(1);
  for (let i = 0; i < 20; i++) hole[i] = 0;
  const out = inpaintPatchMatch(s.truth, hole, 20, 20, { patchSize: 7, seed: 1 });
  assert.equal(out.length, 1200);
  assert.ok(out[19 * 20 * 3 + 30]! > 0, 'the bottom row took colours from the top row');
});

test('work areas: one per component with context, shifted inside the image at its edge, and merged where they overlap', () => {
  const width = 300, height = 200;
  const data = new Uint8Array(width * height);
  const box = (x: number, y: number, w: number, h: number) => { for (let yy = y; yy < y + h; yy++) data.fill(1, yy * width + x, yy * width + x + w); };
  box(10, 10, 20, 20);
  box(40, 15, 10, 10);
  box(270, 170, 30, 30);
  const mask = { data, width, height };
  assert.equal(componentBoxes(mask).length, 3);
  const areas = workAreas(mask, 16);
  assert.equal(areas.length, 2, JSON.stringify(areas));
  const corner = areas.find((a) => a.x < 100)!;
  assert.deepEqual(corner, { x: 0, y: 0, width: 66, height: 52 });
  const far = areas.find((a) => a.x > 100)!;
  assert.deepEqual(far, { x: 238, y: 138, width: 62, height: 62 }, 'the margin is taken inwards at the image edge');
});
