/**
 * Retouching timings: `npm run bench:retouch [-- --rounds 3]`.
 *
 * 1. inpaint: time per request against image size and mask area for each model. patchmatch and
 *    telea are the real methods; lama and migan run same-signature stand-ins (no weights can be
 *    had here), so their rows are the pipeline's own cost around a model: crop, fit to 512²,
 *    tensors, paste back.
 * 2. beauty filter per face, on the fixture photos with the real face weights.
 * 3. enhance-face per face with a same-signature GFPGAN stand-in (detection and landmarks real).
 * Tasks run as the service runs them (task.run), models in-process (test/kit/direct-runner).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import sharp from 'sharp';
import { testConfig } from '../src/config.js';
import { validateImage } from '../src/image/validate.js';
import type { ModelRunner } from '../src/models/runner.js';
import { beautyFilterTask } from '../src/tasks/beauty-filter.js';
import { enhanceFaceTask } from '../src/tasks/enhance-face.js';
import { inpaintTask } from '../src/tasks/inpaint.js';
import { parseOptions } from '../src/tasks/options.js';
import type { TaskDefinition } from '../src/tasks/types.js';
import { negativeGfpgan } from '../test/enhance-face/tiny-restorers.js';
import { textureScene } from '../test/inpaint/scenes.js';
import { flatLama, maskEchoMigan } from '../test/inpaint/tiny-inpainters.js';
import { directRunner } from '../test/kit/direct-runner.js';
import { fixture } from '../test/kit/fixtures.js';
import { realModelPath } from '../test/kit/real-models.js';
import { f, percentile } from './kit.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Math.max(1, Number(args.rounds));

async function timeTask(task: TaskDefinition, runner: ModelRunner, buffer: Buffer, options: unknown): Promise<{ ms: number; metadata: Record<string, unknown> }> {
  const image = await validateImage(buffer, { maxFileSize: 100e6, maxPixels: 40e6 });
  const ctx = { runner, config: testConfig(), logger: pino({ level: 'silent' }), signal: new AbortController().signal, onProgress: () => {}, owner: 'bench' };
  const times: number[] = [];
  let metadata: Record<string, unknown> = {};
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    const result = await task.run(image, parseOptions(task.options, options), ctx);
    times.push(performance.now() - start);
    if (result.kind === 'image') metadata = result.metadata;
  }
  return { ms: percentile(times, 50), metadata };
}

/** A textured photo of the given size (the test scene, tiled) as PNG. */
async function photo(width: number, height: number): Promise<Buffer> {
  const tile = textureScene(220, 180);
  const png = await sharp(tile.truth, { raw: { width: 220, height: 180, channels: 3 } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#406030' } })
    .composite([{ input: png, tile: true, left: 0, top: 0 }]).png().toBuffer();
}

async function inpaintRows(): Promise<void> {
  const runner = directRunner({ lama: flatLama(1), migan: maskEchoMigan() });
  console.log('\n## inpaint: p50 ms per request (one square hole in the middle; default crop strategy, margin 128, resizeLimit 1280)\n');
  console.log('| image | mask area | patchmatch | telea | lama (stand-in) | migan (stand-in) |');
  console.log('|---|---|---|---|---|---|');
  for (const [w, h] of [[640, 480], [1920, 1280], [4000, 3000]] as const) {
    const image = await photo(w, h);
    for (const area of [0.01, 0.05, 0.2]) {
      const side = Math.round(Math.sqrt(area * w * h));
      const box = { x: Math.round((w - side) / 2), y: Math.round((h - side) / 2), width: side, height: side };
      const cells: string[] = [];
      for (const model of ['patchmatch', 'telea', 'lama', 'migan']) {
        const { ms, metadata } = await timeTask(inpaintTask, runner, image, { model, boxes: [box] });
        const [region] = metadata.regions as { workWidth: number; workHeight: number }[];
        cells.push(`${f(ms)} (${region!.workWidth}×${region!.workHeight})`);
      }
      console.log(`| ${w}×${h} | ${area * 100} % (${side}²) | ${cells.join(' | ')} |`);
    }
  }
}

async function faceModels(): Promise<Record<string, Uint8Array>> {
  const models: Record<string, Uint8Array> = {};
  for (const id of ['face-detect', 'face-landmark']) models[id] = fs.readFileSync(await realModelPath(id));
  return models;
}

async function faceRows(): Promise<void> {
  const runner = directRunner({ ...(await faceModels()), gfpgan: negativeGfpgan() });
  console.log('\n## beauty filter and enhance-face: p50 ms per request and per face (detection and landmarks included)\n');
  console.log('| photo | task | faces | ms | ms per face |');
  console.log('|---|---|---|---|---|');
  for (const name of ['faces-group-1.jpg', 'faces-group-2.jpg']) {
    const buffer = fixture(name);
    for (const [task, options] of [[beautyFilterTask, {}], [enhanceFaceTask, {}]] as const) {
      const { ms, metadata } = await timeTask(task, runner, buffer, options);
      const faces = (metadata.faces as unknown[]).length;
      console.log(`| ${name} | ${task.name}${task === enhanceFaceTask ? ' (GFPGAN stand-in)' : ''} | ${faces} | ${f(ms)} | ${f(ms / Math.max(1, faces))} |`);
    }
  }
}

await inpaintRows();
await faceRows();
