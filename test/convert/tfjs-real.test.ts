import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { loadManifest } from '../../src/models/manifest.js';
import { convertTfjsToOnnx } from '../../src/models/convert/tfjs/convert.js';
import { realConvertInputs } from '../kit/convert-inputs.js';
import { fixturePath } from '../kit/fixtures.js';
import { values } from '../kit/numbers.js';
import { realModelPath } from '../kit/real-models.js';
import * as R from './tf-reference.js';
import { interpret } from './tfjs-interpreter.js';
import { onnxName, runOnnx } from './tfjs-kit.js';

interface Case {
  id: string;
  input: string;
  shape: number[];
  range: [number, number];
  /**
   * Feed a photo (scaled to `range`) instead of noise: on noise the portrait segmenters' logits
   * sit near −94, so every mask value underflows and there is nothing to compare.
   */
  photo?: boolean;
  /** Outputs compared value for value (centernet's detections are compared below). */
  outputs: string[];
}

const CASES: Case[] = [
  { id: 'centernet', input: 'tower_0/images', shape: [1, 512, 512, 3], range: [0, 255], outputs: ['tower_0/keypoints', 'tower_0/wh'] },
  { id: 'nanodet', input: 'input_1', shape: [1, 3, 416, 416], range: [-2, 2], outputs: ['Identity', 'Identity_1', 'Identity_2', 'Identity_3', 'Identity_4', 'Identity_5'] },
  { id: 'mediapipe-selfie', input: 'input_1', shape: [1, 256, 256, 3], range: [0, 1], photo: true, outputs: ['activation_10'] },
  { id: 'mediapipe-meet', input: 'input_1', shape: [1, 144, 256, 3], range: [0, 1], photo: true, outputs: ['segment'] },
];

const manifest = loadManifest();
const pinned = (id: string) => {
  const s = manifest.models.find((m) => m.id === id)!.source;
  return s.kind === 'convert' ? s.sha256 : undefined;
};

/**
 * The four shipped TF.js models, converted by the model store, against the same graphs run op
 * by op on the TF reference (tfjs-interpreter.ts) on random input: agreement to 1e-4 of each
 * output's scale.
 */
describe('the shipped TF.js models, converted, agree with the TF reference', () => {
  let inputs: Map<string, Map<string, Uint8Array>>;
  before(async () => {
    inputs = await realConvertInputs(CASES.map((c) => c.id));
  });

  for (const c of CASES) {
    test(`${c.id}: the store's conversion reproduces the pinned sha256 and matches the reference to 1e-4`, async () => {
      const files = inputs.get(c.id)!;
      const json = [...files].find(([n]) => n.endsWith('.json'))!;
      const shards = new Map([...files].filter(([n]) => n !== json[0]));
      const stored = new Uint8Array(fs.readFileSync(await realModelPath(c.id)));
      const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
      assert.equal(sha(stored), pinned(c.id));
      const again = convertTfjsToOnnx(new TextDecoder().decode(json[1]), shards, json[0].replace(/\.json$/, ''));
      assert.equal(sha(again), pinned(c.id), 'an in-process conversion gives the same bytes');

      const x = c.photo ? await photo(c.shape, c.range) : R.tensor(c.shape, values(c.shape.reduce((a, b) => a * b, 1), 42, ...c.range));
      const onnx = await runOnnx(stored, { [c.input]: x });
      const refs = c.id === 'centernet' ? [...c.outputs, 'tower_0/detections'] : c.outputs;
      const ref = interpret(new TextDecoder().decode(json[1]), shards, { [c.input]: x }, refs);
      for (const o of c.outputs) {
        const err = R.relativeError(onnx[onnxName(o)]!.data, ref[o]!.data);
        assert.ok(err <= 1e-4, `${o}: relative error ${err}`);
      }
      if (c.id === 'centernet') assertSameDetections(onnx['tower_0/detections']!, ref['tower_0/detections']!);
    });
  }
});

/** A fixture photo resized to an NHWC input shape, values mapped from 0–255 to `range`. */
async function photo(shape: number[], [lo, hi]: [number, number]): Promise<R.Tensor> {
  const [, h, w] = shape as [number, number, number, number];
  const px = await sharp(fixturePath('faces-group-1.jpg')).resize(w, h, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  return R.tensor(shape, Array.from(px, (v) => lo + ((hi - lo) * v) / 255));
}

/**
 * The top-100 rows: the scores agree; rows whose score stands apart from its neighbours (so
 * float noise cannot reorder them) agree in box and class too.
 */
function assertSameDetections(got: R.Tensor, want: R.Tensor): void {
  const rows = (t: R.Tensor) => Array.from({ length: t.data.length / 6 }, (_, i) => Array.from(t.data.subarray(i * 6, i * 6 + 6)));
  const [g, w] = [rows(got), rows(want)];
  assert.equal(g.length, 100);
  assert.ok(R.relativeError(g.map((r) => r[4]!), w.map((r) => r[4]!)) <= 1e-4, 'scores');
  let compared = 0;
  for (let i = 0; i < w.length; i++) {
    const s = w[i]![4]!;
    const apart = [w[i - 1]?.[4], w[i + 1]?.[4]].every((o) => o === undefined || Math.abs(o - s) > 1e-4 * Math.max(s, 1e-3));
    if (!apart) continue;
    compared++;
    assert.ok(R.relativeError(g[i]!.slice(0, 4), w[i]!.slice(0, 4)) <= 1e-4, `row ${i} box ${g[i]} vs ${w[i]}`);
    assert.equal(g[i]![5], w[i]![5], `row ${i} class`);
  }
  assert.ok(compared >= 50, `only ${compared} rows stood apart`);
}
