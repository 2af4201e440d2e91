/**
 * Upscaling benchmark: `npx tsx bench/upscale.ts [--models id,id] [--runs n]`.
 *  1. per model: one 256² tile through the task's tile path (directRunner + upscaleTiled) against
 *     a raw session.run on the same tensor;
 *  2. tiling overhead and seam error on one image: default tiles against a single pass (x4fast);
 *  3. peak RSS of a whole upscale for 1, 4 and 16 MP outputs, each size in its own child process.
 * Real weights come through the model store (test/kit/real-models.ts), cached in `.models/`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { pino } from 'pino';
import sharp from 'sharp';
import { testConfig } from '../src/config.js';
import { validateImage } from '../src/image/validate.js';
import { upscaleTiled } from '../src/image/tiling.js';
import type { RawImage } from '../src/image/raw.js';
import { parseOptions } from '../src/tasks/options.js';
import { UpscaleOptions, upscaleTask } from '../src/tasks/upscale.js';
import { fixturePath } from '../test/kit/fixtures.js';
import { directRunner } from '../test/kit/direct-runner.js';
import { realModelPath } from '../test/kit/real-models.js';
import { seamError } from '../test/kit/pixels.js';

const ALL_MODELS = ['realesrgan-x4fast', 'realesr-animevideov3-x4', 'realesr-animevideov3-x2', 'realesr-animevideov3-x3', 'realesrgan-x4plus-anime', 'realesrgan-x4plus'];
const SCALE: Record<string, number> = { 'realesr-animevideov3-x2': 2, 'realesr-animevideov3-x3': 3 };
const FIXTURE = fixturePath('faces-group-1.jpg');
const MiB = 2 ** 20;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function modelBytes(id: string): Promise<Buffer> {
  return fs.readFileSync(await realModelPath(id));
}

async function photo(width: number, height: number): Promise<RawImage> {
  const { data, info } = await sharp(FIXTURE).resize(width, height, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

async function timeIt(runs: number, work: () => Promise<unknown>): Promise<number> {
  await work(); // the first run for a shape plans memory and is slower
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return Math.min(...times);
}

async function tileVsRaw(id: string, runs: number): Promise<void> {
  const bytes = await modelBytes(id);
  const session = await ort.InferenceSession.create(bytes);
  const src = await photo(256, 256);
  const planar = new Float32Array(3 * 256 * 256);
  for (let i = 0; i < 256 * 256; i++) for (let c = 0; c < 3; c++) planar[c * 65536 + i] = (src.data[i * 3 + c] as number) / 255;
  const rawMs = await timeIt(runs, () => session.run({ data: new ort.Tensor('float32', planar.slice(), [1, 3, 256, 256]) }));
  const runner = directRunner({ [id]: bytes });
  const scale = SCALE[id] ?? 4;
  const tileModel = async (input: Float32Array, w: number, h: number) => {
    const r = await runner.run(id, { data: { type: 'float32', data: input, dims: [1, 3, h, w] } });
    return r.outputs.output?.data as Float32Array;
  };
  const tileMs = await timeIt(runs, () => upscaleTiled(src, tileModel, { scale, tileSize: 256, tilePad: 12 }));
  const canned = new Float32Array(3 * 256 * 256 * scale * scale).fill(0.5);
  const jsMs = await timeIt(runs, () => upscaleTiled(src, async () => canned, { scale, tileSize: 256, tilePad: 12 }));
  console.log(
    `  ${id.padEnd(24)} raw session.run ${rawMs.toFixed(0).padStart(6)} ms   tile path ${tileMs.toFixed(0).padStart(6)} ms   ` +
      `of which tile copy + blend ${jsMs.toFixed(1)} ms`,
  );
}

async function tilingOverhead(runs: number): Promise<void> {
  const id = 'realesrgan-x4fast';
  const session = await ort.InferenceSession.create(await modelBytes(id));
  const model = async (input: Float32Array, w: number, h: number) =>
    (await session.run({ data: new ort.Tensor('float32', input, [1, 3, h, w]) })).output!.data as Float32Array;
  const src = await photo(768, 512);
  const single = await upscaleTiled(src, model, { scale: 4, tileSize: 4096, tilePad: 0 });
  const singleMs = await timeIt(runs - 1, () => upscaleTiled(src, model, { scale: 4, tileSize: 4096, tilePad: 0 }));
  console.log(`  ${src.width}×${src.height} → ×4, single pass: ${singleMs.toFixed(0)} ms`);
  for (const [tileSize, tilePad] of [[512, 12], [256, 12]] as const) {
    const tiled = await upscaleTiled(src, model, { scale: 4, tileSize, tilePad });
    const ms = await timeIt(runs - 1, () => upscaleTiled(src, model, { scale: 4, tileSize, tilePad }));
    const err = seamError(single.data, tiled.data);
    console.log(
      `  tiles ${tileSize}/${tilePad} (${tiled.tiles}): ${ms.toFixed(0)} ms, overhead ${(((ms - singleMs) / singleMs) * 100).toFixed(1)}%, ` +
        `pixels beyond 2/255: ${(err.over2 * 100).toFixed(4)}%, worst ${err.worst}/255`,
    );
  }
}

/**
 * Peak RSS of this process. Linux's getrusage maxrss survives exec, so a child spawned by a big
 * parent would report the parent's peak; VmHWM belongs to the new address space.
 */
function peakRssBytes(): number {
  const status = fs.existsSync('/proc/self/status') ? fs.readFileSync('/proc/self/status', 'utf8') : '';
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : process.resourceUsage().maxRSS * 1024;
}

/** Child mode: one whole upscale through the task; prints peak RSS as JSON. */
async function rssChild(side: number, tileSize: number): Promise<void> {
  const runner = directRunner({ 'realesrgan-x4fast': await modelBytes('realesrgan-x4fast') });
  const png = await sharp(FIXTURE).resize(side, side, { fit: 'cover' }).png().toBuffer();
  const img = await validateImage(png, { maxFileSize: 50e6, maxPixels: 40e6 });
  const baseline = peakRssBytes();
  const start = performance.now();
  const result = await upscaleTask.run(img, parseOptions(UpscaleOptions, { model: 'realesrgan-x4fast', tileSize }), {
    runner,
    config: testConfig(),
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    onProgress: () => {},
    owner: 'bench',
  });
  const ms = performance.now() - start;
  const peak = peakRssBytes();
  console.log(JSON.stringify({ side, baseline, peak, ms, tiles: result.metadata?.tiles, tileSize: result.metadata?.tileSize }));
}

/** A fixed tile size keeps the model's share constant, so what grows is the task's own memory. */
const RSS_TILE = 256;

function peakRss(): void {
  const self = fileURLToPath(import.meta.url);
  let previous: { mp: number; peak: number } | undefined;
  for (const side of [256, 512, 1024]) {
    const args = ['--import', 'tsx', self, '--rss-child', String(side), '--tile', String(RSS_TILE)];
    const child = spawnSync(process.execPath, args, { encoding: 'utf8' });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || !line.startsWith('{')) {
      console.log(`  ${side}²: child failed: ${child.stderr.slice(-500)}`);
      continue;
    }
    const r = JSON.parse(line) as { baseline: number; peak: number; ms: number; tiles: number; tileSize: number };
    const mp = (side * 4) ** 2 / 1e6;
    const slope = previous ? `, +${((r.peak - previous.peak) / MiB / (mp - previous.mp)).toFixed(1)} MiB per extra output MP` : '';
    console.log(
      `  ${side}² → ${mp.toFixed(1)} MP: peak RSS ${(r.peak / MiB).toFixed(0)} MiB (before the task ${(r.baseline / MiB).toFixed(0)} MiB${slope}), ` +
        `${r.tiles} tiles, ${(r.ms / 1000).toFixed(1)} s`,
    );
    previous = { mp, peak: r.peak };
  }
}

async function main(): Promise<void> {
  const child = arg('rss-child');
  if (child) return rssChild(Number(child), Number(arg('tile') ?? RSS_TILE));
  const runs = Number(arg('runs') ?? 3);
  const models = (arg('models') ?? ALL_MODELS.join(',')).split(',');
  console.log(`onnxruntime-node ${ort.env.versions.common}, CPU, best of ${runs} runs after one warm-up`);
  console.log('\n1. one 256² tile: raw session.run vs the tile path');
  for (const id of models) await tileVsRaw(id, runs);
  console.log('\n2. tiling overhead and seam error (realesrgan-x4fast)');
  await tilingOverhead(runs);
  console.log(`\n3. peak RSS of a whole ×4 upscale (realesrgan-x4fast, ${RSS_TILE}² tiles, child process per size)`);
  peakRss();
}

await main();
