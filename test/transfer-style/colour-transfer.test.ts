import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { RawImage } from '../../src/image/raw.js';
import { labStats, transferColour, type ColourStats } from '../../src/tasks/transfer-style/colour-transfer.js';
import { oklabToRgb, rgbToOklab } from '../../src/tasks/transfer-style/oklab.js';
import { fixture } from '../kit/fixtures.js';

async function photo(name: string, width: number): Promise<RawImage> {
  const { data, info } = await sharp(fixture(name)).resize(width).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

const stats = (img: RawImage) => labStats(rgbToOklab(img.data, img.channels));
const distance = (a: ColourStats, b: ColourStats) => Math.hypot(...a.mean.map((m, c) => m - b.mean[c]!), ...a.std.map((s, c) => s - b.std[c]!));

/** Sobel gradient magnitude of the luma. */
function edges(img: RawImage): Float32Array {
  const { width: w, height: h, data, channels: ch } = img;
  const y = (x: number, yy: number) => {
    const i = (yy * w + x) * ch;
    return 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
  };
  const out = new Float32Array((w - 2) * (h - 2));
  for (let yy = 1; yy < h - 1; yy++) {
    for (let x = 1; x < w - 1; x++) {
      const gx = y(x + 1, yy - 1) + 2 * y(x + 1, yy) + y(x + 1, yy + 1) - y(x - 1, yy - 1) - 2 * y(x - 1, yy) - y(x - 1, yy + 1);
      const gy = y(x - 1, yy + 1) + 2 * y(x, yy + 1) + y(x + 1, yy + 1) - y(x - 1, yy - 1) - 2 * y(x, yy - 1) - y(x + 1, yy - 1);
      out[(yy - 1) * (w - 2) + x - 1] = Math.hypot(gx, gy);
    }
  }
  return out;
}

function correlation(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let [sa, sb] = [0, 0];
  for (let i = 0; i < n; i++) [sa, sb] = [sa + a[i]!, sb + b[i]!];
  const [ma, mb] = [sa / n, sb / n];
  let [ab, aa, bb] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const [da, db] = [a[i]! - ma, b[i]! - mb];
    [ab, aa, bb] = [ab + da * db, aa + da * da, bb + db * db];
  }
  return ab / Math.sqrt(aa * bb);
}

describe('colour transfer (method color)', () => {
  let content: RawImage;
  let style: RawImage;
  before(async () => {
    content = await photo('faces-group-1.jpg', 480);
    style = await photo('objects-lounge.jpg', 400);
  });

  test('Oklab round trip: strength 0 gives the content back within one level', async () => {
    const back = Buffer.alloc(content.data.length);
    oklabToRgb(rgbToOklab(content.data, 3), back, 3);
    let worst = 0;
    for (let i = 0; i < back.length; i++) worst = Math.max(worst, Math.abs(back[i]! - content.data[i]!));
    assert.ok(worst <= 1, `worst ${worst}`);
    const same = await transferColour(content, style, { strength: 0, histogram: false });
    assert.ok(same.data.every((v, i) => Math.abs(v - content.data[i]!) <= 1));
  });

  for (const histogram of [false, true]) {
    test(`${histogram ? 'histogram matching' : 'Reinhard statistics'}: the distance to the style's Oklab statistics shrinks ≥ 80 % at strength 1 and about half at 0.5, edges stay`, async () => {
      const target = stats(style);
      const before = distance(stats(content), target);
      const full = await transferColour(content, style, { strength: 1, histogram });
      const half = await transferColour(content, style, { strength: 0.5, histogram });
      const [dFull, dHalf] = [distance(stats(full), target) / before, distance(stats(half), target) / before];
      assert.ok(dFull <= 0.2, `at strength 1 the distance is ${(dFull * 100).toFixed(1)} % of the original`);
      assert.ok(dHalf > 0.4 && dHalf < 0.6, `at strength 0.5 it is ${(dHalf * 100).toFixed(1)} %`);
      const r = correlation(edges(full), edges(content));
      assert.ok(r >= 0.9, `edge correlation with the content ${r.toFixed(3)}`);
    });
  }

  test("the content's alpha is untouched", async () => {
    const rgba: RawImage = { ...content, channels: 4, data: Buffer.alloc(content.width * content.height * 4) };
    for (let p = 0; p < content.width * content.height; p++) {
      content.data.copy(rgba.data, p * 4, p * 3, p * 3 + 3);
      rgba.data[p * 4 + 3] = p % 251;
    }
    const out = await transferColour(rgba, style, { strength: 1, histogram: false });
    for (let p = 0; p < content.width * content.height; p += 97) assert.equal(out.data[p * 4 + 3], p % 251);
  });
});
