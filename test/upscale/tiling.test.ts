import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type { RawImage } from '../../src/image/raw.js';
import { axisTiles, checkTileOptions, tileSizeForBudget, upscaleTiled, type TileModel } from '../../src/image/tiling.js';
import { GraphBuilder, nearestUpscaleModel } from '../kit/onnx.js';

function noiseImage(width: number, height: number, channels: 3 | 4, seed = 1): RawImage {
  const data = Buffer.alloc(width * height * channels);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = s >>> 23;
  }
  return { data, width, height, channels };
}

async function sessionModel(g: GraphBuilder): Promise<TileModel & { calls: number }> {
  const session = await ort.InferenceSession.create(g.toBytes());
  const model = Object.assign(
    async (input: Float32Array, width: number, height: number) => {
      model.calls += 1;
      const out = await session.run({ data: new ort.Tensor('float32', input, [1, 3, height, width]) });
      return (out.output as ort.Tensor).data as Float32Array;
    },
    { calls: 0 },
  );
  return model;
}

/** 3×3 box blur, then nearest ×2: every output pixel depends on a 1-pixel neighbourhood. */
function blurUpscaleModel(): GraphBuilder {
  const g = new GraphBuilder('blur-upscale');
  g.input('data', 'float32', [1, 3, 'h', 'w']);
  const w = new Float32Array(3 * 9);
  for (let c = 0; c < 3; c++) w.fill(1 / 9, c * 9, c * 9 + 9);
  const weights = g.initializer('w', [3, 1, 3, 3], w);
  const blurred = g.op('Conv', ['data', weights], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 3 });
  const scales = g.initializer('scales', [4], new Float32Array([1, 1, 2, 2]));
  const roi = g.initializer('roi', [0], new Float32Array(0));
  g.op('Resize', [blurred, roi, scales], { mode: 'nearest' }, 'output');
  g.output('output', 'float32', [1, 3, 'H', 'W']);
  return g;
}

function maxDiff(a: Buffer, b: Buffer): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('tile layout', () => {
  test('feather weights of every tile layout sum to exactly 1 on each output pixel', () => {
    for (const [tile, pad] of [[16, 3], [32, 4], [64, 12], [100, 0]] as const) {
      for (let length = 1; length < 700; length += 7) {
        const tiles = axisTiles(length, tile, pad, 3);
        const sum = new Float64Array(length * 3);
        for (const t of tiles) {
          assert.ok(t.end - t.start <= tile && t.start >= 0 && t.end <= length);
          for (let p = t.from; p < t.to; p++) sum[p] = (sum[p] as number) + (t.weights[p - t.from] as number);
        }
        assert.ok(sum.every((v) => Math.abs(v - 1) < 1e-6), `tile ${tile} pad ${pad} length ${length}`);
      }
    }
  });

  test('tiles shrink to cover the length with overlaps of 2 × tilePad, not whole extra tiles', () => {
    const tiles = axisTiles(1024, 512, 12, 4);
    assert.equal(tiles.length, 3);
    const work = tiles.reduce((n, t) => n + t.end - t.start, 0);
    assert.ok(work <= 1024 + 2 * 2 * 12 + 3, `${work} input pixels processed for 1024`);
  });

  test('rejects a tileSize below 4 × tilePad + 2 and sizes tiles from a pixel budget', () => {
    assert.match(checkTileOptions(40, 10) ?? '', /at least 4 × tilePad \+ 2 \(42\)/);
    assert.equal(checkTileOptions(42, 10), undefined);
    assert.equal(tileSizeForBudget(512 * 512 + 100), 512);
    assert.equal(tileSizeForBudget(10), 64);
    assert.equal(tileSizeForBudget(1e12), 1024);
  });
});

describe('upscaleTiled', () => {
  test('a tiled ×4 nearest upscale equals the untiled one byte for byte', async () => {
    const model = await sessionModel(nearestUpscaleModel(4));
    const src = noiseImage(150, 97, 3);
    const whole = await upscaleTiled(src, model, { scale: 4, tileSize: 4096, tilePad: 0 });
    const tiled = await upscaleTiled(src, model, { scale: 4, tileSize: 32, tilePad: 4 });
    assert.equal(whole.tiles, 1);
    assert.ok(tiled.tiles > 20, `${tiled.tiles} tiles`);
    assert.equal(tiled.width, 600);
    assert.equal(tiled.height, 388);
    assert.ok(tiled.data.equals(whole.data));
  });

  test('seams use the overlap as context: a blur model tiled with tilePad 4 matches the single pass, with tilePad 0 it does not', async () => {
    const model = await sessionModel(blurUpscaleModel());
    const src = noiseImage(90, 70, 4);
    const whole = await upscaleTiled(src, model, { scale: 2, tileSize: 4096, tilePad: 0 });
    const padded = await upscaleTiled(src, model, { scale: 2, tileSize: 24, tilePad: 4 });
    const bare = await upscaleTiled(src, model, { scale: 2, tileSize: 24, tilePad: 0 });
    assert.ok(maxDiff(padded.data, whole.data) <= 1, `padded max diff ${maxDiff(padded.data, whole.data)}`);
    assert.ok(maxDiff(bare.data, whole.data) > 10, `unpadded max diff ${maxDiff(bare.data, whole.data)}`);
  });

  test('reports every tile and stops between tiles once the signal is aborted', async () => {
    const model = await sessionModel(nearestUpscaleModel(2));
    const controller = new AbortController();
    const seen: Array<[number, number]> = [];
    const run = upscaleTiled(noiseImage(64, 64, 3), model, {
      scale: 2,
      tileSize: 16,
      tilePad: 2,
      signal: controller.signal,
      onTile: (done, total) => {
        seen.push([done, total]);
        if (done === 3) controller.abort(new Error('client went away'));
      },
    });
    await assert.rejects(run, /client went away/);
    assert.deepEqual(seen.map(([d]) => d), [1, 2, 3]);
    assert.equal(model.calls, 3);
    assert.ok((seen[0]?.[1] ?? 0) > 3);
  });

  test('refuses a model output of the wrong size', async () => {
    const model = await sessionModel(nearestUpscaleModel(2));
    await assert.rejects(upscaleTiled(noiseImage(20, 20, 3), model, { scale: 4, tileSize: 64, tilePad: 0 }), /expected 3 × 80×80/);
  });
});
