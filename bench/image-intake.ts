/**
 * Intake costs on the fixtures: header-only validation vs a full decode (why validateImage does
 * not decode), decodeRaw, model preprocessing, and the JS float loop on its own.
 * Run: npx tsx bench/image-intake.ts
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeBase64Image } from '../src/image/base64.js';
import { decodeRaw } from '../src/image/decode.js';
import { imageToTensor, pixelsToFloat, type PreprocessSpec } from '../src/image/tensor.js';
import { validateImage } from '../src/image/validate.js';
import { FIXTURES } from '../test/kit/fixtures.js';

const LIMITS = { maxFileSize: 50e6, maxPixels: 40e6 };
const RUNS = 15;

async function median(fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)]!;
}

const fmt = (ms: number) => `${ms.toFixed(2).padStart(8)} ms`;

const IMAGENET: Omit<PreprocessSpec, 'size' | 'fit'> = {
  channelOrder: 'RGB', layout: 'NCHW', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
};

async function inputs(): Promise<Array<[string, Buffer]>> {
  const dir = FIXTURES;
  const group = readFileSync(path.join(dir, 'faces-group-1.jpg'));
  const big = await sharp(group).resize(4000, 3000).jpeg({ quality: 90 }).toBuffer();
  return [
    ['faces-group-1.jpg 1920×1280', group],
    ['faces-group-2.jpg', readFileSync(path.join(dir, 'faces-group-2.jpg'))],
    ['small-128.png 128×128 RGBA', readFileSync(path.join(dir, 'small-128.png'))],
    ['synthetic 4000×3000 JPEG', big],
  ];
}

function bombPng(side: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
}

async function main(): Promise<void> {
  console.log(`median of ${RUNS} runs, sharp concurrency ${sharp.concurrency()}\n`);
  for (const [name, buf] of await inputs()) {
    const img = await validateImage(buf, LIMITS);
    console.log(`${name} (${img.width}×${img.height}, ${(buf.length / 1024).toFixed(0)} KiB)`);
    console.log(`  validateImage (header only)      ${fmt(await median(() => validateImage(buf, LIMITS)))}`);
    console.log(`  full decode, failOn 'error'      ${fmt(await median(() => sharp(buf, { failOn: 'error' }).raw().toBuffer()))}`);
    console.log(`  decodeRaw (oriented, 3 ch)       ${fmt(await median(() => decodeRaw(img, { channels: 3 })))}`);
    const spec = { ...IMAGENET, size: { width: 1024, height: 1024 }, fit: 'fill' as const };
    console.log(`  imageToTensor 1024² NCHW         ${fmt(await median(() => imageToTensor(img, spec)))}`);
    const letterbox = { ...IMAGENET, size: { width: 640, height: 640 }, fit: 'contain' as const, padColor: [114, 114, 114] as const };
    console.log(`  imageToTensor 640² letterbox     ${fmt(await median(() => imageToTensor(img, letterbox)))}`);
  }
  const raw = { data: Buffer.alloc(1024 * 1024 * 3, 7), width: 1024, height: 1024, channels: 3 as const };
  console.log(`\npixelsToFloat alone, 1024² RGB NCHW ${fmt(await median(() => pixelsToFloat(raw, IMAGENET)))}`);
  console.log(`pixelsToFloat alone, 1024² BGR NHWC ${fmt(await median(() => pixelsToFloat(raw, { ...IMAGENET, channelOrder: 'BGR', layout: 'NHWC' })))}`);

  const b64 = Buffer.alloc(20e6, 0x5a).toString('base64');
  console.log(`decodeBase64Image, 20 MB image     ${fmt(await median(() => decodeBase64Image(b64, 'image')))}`);

  const bomb = bombPng(30000);
  const rss = process.memoryUsage().rss;
  const t = performance.now();
  const outcome = await validateImage(bomb, LIMITS).then(() => 'accepted', (e: { code: string }) => e.code);
  console.log(`30000² PNG bomb: ${outcome} in ${(performance.now() - t).toFixed(2)} ms, RSS change ${((process.memoryUsage().rss - rss) / 2 ** 20).toFixed(1)} MiB`);
}

await main();
