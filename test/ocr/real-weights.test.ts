import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { pino } from 'pino';
import sharp from 'sharp';
import { testConfig } from '../../src/config.js';
import type { ModelRunner } from '../../src/models/runner.js';
import { OcrOptions, ocrTask, type OcrLine } from '../../src/tasks/ocr.js';
import { parseOptions } from '../../src/tasks/options.js';
import { fixture } from '../kit/fixtures.js';
import { validated } from '../kit/images.js';
import { realOcrRunner } from './real-kit.js';
import { renderLines } from './render.js';

describe('OCR with the real PP-OCRv4 weights', () => {
  let runner: ModelRunner;
  before(async () => {
    runner = await realOcrRunner();
  });

  async function read(png: Buffer, options: Record<string, unknown> = {}) {
    const ctx = { runner, config: testConfig(), logger: pino({ level: 'silent' }), signal: new AbortController().signal, onProgress: () => undefined, owner: 'test' };
    const result = await ocrTask.run(await validated(png), parseOptions(OcrOptions, options), ctx);
    assert.equal(result.kind, 'json');
    return result.data as { text: string; lines: OcrLine[] };
  }

  test('clean lines come back exactly at 16, 24, 40 and 64 px, in sans and serif', async () => {
    for (const size of [16, 24, 40, 64]) {
      for (const font of ['sans', 'serif'] as const) {
        const text = 'FotoFun reads 2026 signs';
        const out = await read(await renderLines([{ text, size, font }]));
        assert.equal(out.text, text, `${size} px ${font}`);
        assert.equal(out.lines.length, 1);
        assert.ok(out.lines[0]!.confidence > 0.9, `confidence ${out.lines[0]!.confidence}`);
      }
    }
  });

  test('a multi-line block comes back in reading order, each line with its box in original pixels', async () => {
    const lines = ['Opening hours', 'Monday to Friday 9 to 18', 'Saturday 10 to 14', 'Closed on Sunday'];
    const png = await renderLines(lines.map((text) => ({ text, size: 30 })));
    const out = await read(png);
    assert.equal(out.text, lines.join('\n'));
    const { width, height } = await sharp(png).metadata();
    for (let i = 0; i < out.lines.length; i++) {
      const box = out.lines[i]!.box;
      assert.ok(box.every(([x, y]) => x >= 0 && x < width && y >= 0 && y < height));
      if (i > 0) assert.ok(box[0][1] > out.lines[i - 1]!.box[2][1] - 5, 'each line starts below the one before');
    }
  });

  test('text turned 180° comes back right with detectRotation', async () => {
    const text = 'Upside down text 42';
    const turned = await sharp(await renderLines([{ text, size: 36 }])).rotate(180).png().toBuffer();
    assert.equal((await read(turned, { detectRotation: true })).text, text);
    assert.notEqual((await read(turned, { minConfidence: 0 })).text, text, 'without the classifier it is misread');
  });

  test('an image with no text gives text "" and no lines', async () => {
    const blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#87a96b' } }).png().toBuffer();
    assert.deepEqual(await read(blank), { text: '', lines: [] });
  });

  test("a real page's visible words come back", async () => {
    const out = await read(fixture('text-webpage.png'));
    for (const words of ['Lockheed', 'U-2S spy planes', 'Tesla Model S', 'Air Force', 'Camaro Z/28', 'Facebook', 'Pinterest', '29 Comments', 'baaa.fun']) {
      assert.ok(out.text.includes(words), `"${words}" is missing from:\n${out.text}`);
    }
  });
});
