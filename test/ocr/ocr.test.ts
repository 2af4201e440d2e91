import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { detectorSize, ocrTask } from '../../src/tasks/ocr.js';
import { ctcDecode, widthBatches } from '../../src/tasks/ocr/recognize.js';
import { convexHull, minAreaRect, orderedBox, unclip } from '../../src/tasks/ocr/quad.js';
import { readingOrder } from '../../src/tasks/ocr/db-postprocess.js';
import { postJson, startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { createHarness, untilStatus } from '../jobs/kit.js';
import { tinyManager } from '../kit/models.js';
import { tempDir } from '../kit/onnx.js';
import { TINY_KEYS, alwaysTurnedClassifier, darkColumnRecogniser, darkMapDetector } from './tiny-ocr-models.js';

type Line = { text: string; confidence: number; box: [number, number][] };
type Body = { result: { text: string; lines: Line[]; metadata: Record<string, unknown> }; error?: { code: string; message: string } };

/** Rows of black bars on white: `bars[i]` bars in row i, each 24×20 with 16-px gaps, so each is a box of its own. */
async function barLines(bars: number[], turned = false): Promise<Buffer> {
  const rects = bars.flatMap((n, row) => Array.from({ length: n }, (_, k) => `<rect x="${40 + k * 40}" y="${40 + row * 70}" width="24" height="20" fill="black"/>`));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="${60 + bars.length * 70}"><rect width="100%" height="100%" fill="white"/>${rects.join('')}</svg>`;
  const png = sharp(Buffer.from(svg));
  return (turned ? png.rotate(180) : png).png().toBuffer();
}

function runner() {
  return directRunner(
    { 'ocr-det': darkMapDetector(), 'ocr-rec': darkColumnRecogniser(), 'ocr-cls': alwaysTurnedClassifier() },
    { 'ocr-rec': { 'ocr-rec-keys.txt': Buffer.from(TINY_KEYS) } },
  );
}

describe('ocr on same-signature tiny models', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ tasks: [ocrTask], runner: runner() });
  });
  after(() => app.close());

  const call = async (image: Buffer, options: Record<string, unknown> = {}) => {
    const res = await postJson(`${app.url}/api/v1/ocr/recognize`, { image: image.toString('base64'), options });
    return { res, body: (await res.json()) as Body };
  };

  test('the whole pipeline: a box per bar, each crop read, reading order row by row, boxes in original pixels', async () => {
    const { res, body } = await call(await barLines([3, 1, 2]));
    assert.equal(res.status, 200);
    assert.equal(body.result.text, 'x\nx\nx\nx\nx\nx');
    const corners = body.result.lines.map((l) => l.box[0]!);
    const rows = corners.map(([, y]) => Math.max(0, Math.round((y - 40) / 70)));
    assert.deepEqual(rows, [0, 0, 0, 1, 2, 2], `top-left corners ${JSON.stringify(corners)}`);
    for (let i = 1; i < corners.length; i++) if (rows[i] === rows[i - 1]) assert.ok(corners[i]![0] > corners[i - 1]![0], 'left to right within a row');
    const xs = body.result.lines[0]!.box.map((p) => p[0]);
    const ys = body.result.lines[0]!.box.map((p) => p[1]);
    assert.ok(Math.min(...xs) <= 40 && Math.max(...xs) >= 63 && Math.min(...ys) <= 40 && Math.max(...ys) >= 59, `box ${JSON.stringify(body.result.lines[0]!.box)} covers the bar at x 40–64, y 40–60`);
    assert.deepEqual(body.result.metadata.model, 'ocr-det,ocr-rec');
  });

  test('detectRotation runs the classifier and reads turned lines from their other end', async () => {
    const { body } = await call(await barLines([2, 4], true), { detectRotation: true });
    assert.equal(body.result.metadata.model, 'ocr-det,ocr-cls,ocr-rec');
    assert.equal(body.result.text, 'x\nx\nx\nx\nx\nx');
  });

  test('no text: text "" and no lines; minConfidence drops weak lines', async () => {
    const blank = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const { body } = await call(blank);
    assert.deepEqual([body.result.text, body.result.lines], ['', []]);
    const strict = await call(await barLines([2]), { minConfidence: 1 });
    assert.deepEqual(strict.body.result.lines, []);
  });

  test('the short route answers the same JSON; bad input answers 400 with a stable code', async () => {
    const png = await barLines([2]);
    const short = await fetch(`${app.url}/v1/ocr`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
    assert.equal(((await short.json()) as Body).result.text, 'x\nx');
    for (const options of [{ maxSide: 10 }, { unclipRatio: 9 }, { boxThreshold: -1 }, { language: 'de' }]) {
      const { res, body } = await call(png, options);
      assert.equal(res.status, 400, JSON.stringify(options));
      assert.equal(body.error?.code, 'INVALID_OPTIONS');
    }
    const corrupt = await call(png.subarray(0, 100));
    assert.equal(corrupt.res.status, 400);
    assert.equal(corrupt.body.error?.code, 'INVALID_IMAGE');
  });
});

test('ocr runs as a job with a JSON result', async () => {
  const r = runner();
  const h = createHarness([ocrTask], {}, { runner: r });
  const app = await startTestApp({ tasks: [ocrTask], runner: r, deps: { jobs: h.queue } });
  h.queue.start();
  try {
    const res = await postJson(`${app.url}/api/v1/ocr/recognize`, { image: (await barLines([1, 2])).toString('base64') }, { prefer: 'respond-async' });
    const { result: { jobId } } = (await res.json()) as { result: { jobId: string } };
    const done = untilStatus(h.queue, jobId, 'completed');
    if (h.queue.get(jobId, 'anonymous').status !== 'completed') await done;
    assert.equal((JSON.parse((await h.queue.result(jobId, 'anonymous')).body.toString()) as { text: string }).text, 'x\nx\nx');
  } finally {
    await app.close();
    await h.queue.close();
  }
});

test('without the weights the answer is 503 naming the pull command', async () => {
  const dir = tempDir();
  const kit = tinyManager(dir, [{ id: 'ocr-det', graph: darkMapDetector() }]);
  fs.rmSync(path.join(dir, 'ocr-det.onnx'));
  const app = await startTestApp({ tasks: [ocrTask], runner: kit.manager });
  try {
    const res = await postJson(`${app.url}/api/v1/ocr/recognize`, { image: (await barLines([1])).toString('base64') });
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as Body).error!.message, /npm run models -- pull ocr-det/);
  } finally {
    await app.close();
    await kit.close();
  }
});

test('geometry: minimum-area boxes of rotated point sets, unclip growth, reading order, detector sizes, CTC', () => {
  const a = Math.PI / 6;
  const rot = ([x, y]: [number, number]): [number, number] => [100 + x * Math.cos(a) - y * Math.sin(a), 50 + x * Math.sin(a) + y * Math.cos(a)];
  const pts = [[0, 0], [80, 0], [80, 20], [0, 20], [40, 10], [10, 5]].map((p) => rot(p as [number, number]));
  const rect = minAreaRect(convexHull(pts));
  assert.ok(Math.abs(rect.width * rect.height - 1600) < 1e-6, `area ${rect.width * rect.height}`);
  const grown = unclip(rect, 2);
  const d = (1600 * 2) / 200;
  assert.ok(Math.abs(Math.max(grown.width, grown.height) - (80 + 2 * d)) < 1e-6 && Math.abs(Math.min(grown.width, grown.height) - (20 + 2 * d)) < 1e-6);
  const { quad } = orderedBox(minAreaRect(convexHull([[10, 10], [50, 10], [50, 30], [10, 30]])));
  assert.deepEqual(quad, [[10, 10], [50, 10], [50, 30], [10, 30]]);
  const box = (x: number, y: number) => ({ quad: [[x, y], [x + 10, y], [x + 10, y + 5], [x, y + 5]] as [number, number][] as never });
  assert.deepEqual(readingOrder([box(100, 12), box(10, 40), box(5, 10)]).map((b: { quad: [number, number][] }) => b.quad[0]), [[5, 10], [100, 12], [10, 40]]);
  assert.deepEqual(detectorSize(1920, 1080, 960), { width: 960, height: 544 });
  assert.deepEqual(detectorSize(300, 100, 960), { width: 288, height: 96 });
  const probs = new Float32Array([0.9, 0.1, 0, 0.2, 0.8, 0, 0.1, 0.9, 0, 0.9, 0.1, 0, 0.3, 0.7, 0, 0.1, 0.1, 0.8]);
  const decoded = ctcDecode(probs, 6, 3, ['', 'a', 'b']);
  assert.equal(decoded.text, 'aab', 'repeats merge, a blank separates a repeated letter');
  assert.ok(Math.abs(decoded.confidence - (0.8 + 0.7 + 0.8) / 3) < 1e-6);
});

test('recogniser runs: narrow lines of nearly one width share a run (≤ 512 px in all, ≤ 10 % padding), wide ones run alone', () => {
  const widths = [64, 900, 66, 70, 200, 480, 65, 100, 500];
  const runs = widthBatches(widths);
  assert.deepEqual(runs.flat().sort((a, b) => a - b), widths.map((_, i) => i), 'every line once');
  for (const run of runs) {
    const w = run.map((i) => widths[i]!);
    assert.ok(Math.max(...w) * w.length <= 512 || w.length === 1, `run ${w} holds at most 512 px`);
    assert.ok(Math.max(...w) * w.length <= 1.1 * w.reduce((s, v) => s + v, 0) + 1e-9, `run ${w} pads at most 10 %`);
  }
  assert.deepEqual(runs[0]!.map((i) => widths[i]), [64, 65, 66, 70]);
});
