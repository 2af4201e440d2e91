/**
 * Object detection on the converted TF.js weights: `npm run bench:detect-objects -- [--rounds 30]
 * [--models centernet,nanodet] [--workers 2] [--threads 2]`.
 *
 * Per model, on the three photo fixtures at 640 px wide and at full size (1920 px), through the
 * service's ModelManager and worker pool behind the real HTTP app (JSON, base64 in):
 * - raw session.run (timed in the worker), decode (sharp, the photo to pixels) and end-to-end
 *   p50/p95 of one request at a time, and the ratio end-to-end / (session.run + decode);
 * - images/s with 1, 2 and 4 requests in flight.
 * Targets: at 640 px, end-to-end p50 ≤ 1.3 × (session.run + decode); centernet p50 ≤ 60 ms.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import sharp from 'sharp';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { loadManifest } from '../src/models/manifest.js';
import { buildModels } from '../src/service.js';
import { detectObjectsTask } from '../src/tasks/detect-objects.js';
import { startTestApp } from '../test/kit/app.js';
import { fixture } from '../test/kit/fixtures.js';
import { REAL_MODEL_DIR, realModelPath } from '../test/kit/real-models.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '30' },
    models: { type: 'string', default: 'centernet,nanodet' },
    workers: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
  },
});
const ROUNDS = Number(args.rounds);
const MODELS = args.models.split(',');
const PHOTOS = ['faces-group-1.jpg', 'faces-group-2.jpg', 'objects-lounge.jpg'];

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}
const f1 = (v: number) => v.toFixed(1).padStart(7);

async function photos(width?: number): Promise<Buffer[]> {
  return Promise.all(PHOTOS.map((p) => (width ? sharp(fixture(p)).resize(width).jpeg({ quality: 90 }).toBuffer() : fixture(p))));
}

async function decodeMs(buf: Buffer): Promise<number> {
  const t0 = performance.now();
  await sharp(buf, { failOn: 'error' }).rotate().removeAlpha().raw().toBuffer();
  return performance.now() - t0;
}

async function main() {
  for (const id of MODELS) await realModelPath(id);
  const config = loadConfig({ LOG_LEVEL: 'silent', MODEL_DIR: REAL_MODEL_DIR, PULL_MODELS_ON_START: 'false', INFERENCE_WORKERS: args.workers, INTRA_OP_THREADS: args.threads });
  const { manager } = buildModels(config, pino({ level: 'silent' }), openDatabase(':memory:'), loadManifest(), { primary: 'cpu', reason: 'bench' });
  for (const id of MODELS) await manager.load(id);
  const app = await startTestApp({ tasks: [detectObjectsTask], runner: manager, env: { LOG_LEVEL: 'silent', MAX_CONCURRENT_REQUESTS: '8' } });
  const url = `${app.url}/api/v1/transformers/detect-objects`;
  const post = async (buf: Buffer, model: string) => {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: buf.toString('base64'), options: { model } }) });
    const json = (await res.json()) as { result: { metadata: { timings: Record<string, number> } } };
    if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(json)}`);
    return { ms: performance.now() - t0, timings: json.result.metadata.timings };
  };
  console.log(`object detection, ${ROUNDS} rounds over ${PHOTOS.length} photos, ${args.workers} workers × ${args.threads} threads`);
  try {
    for (const [label, width] of [['640 px', 640], ['full size', undefined]] as const) {
      const images = await photos(width);
      for (const model of MODELS) {
        for (const img of images) await post(img, model);
        const e2e: number[] = [];
        const dec: number[] = [];
        const stages: Record<string, number[]> = {};
        for (let r = 0; r < ROUNDS; r++) {
          for (const img of images) {
            dec.push(await decodeMs(img));
            const { ms, timings } = await post(img, model);
            e2e.push(ms);
            for (const [k, v] of Object.entries(timings)) (stages[k] ??= []).push(v);
          }
        }
        const run = stages.inferenceMs!;
        const ratio = pct(e2e, 0.5) / (pct(run, 0.5) + pct(dec, 0.5));
        console.log(`\n${model}, ${label}`);
        console.log(`  session.run p50 ${f1(pct(run, 0.5))} p95 ${f1(pct(run, 0.95))} ms;  decode p50 ${f1(pct(dec, 0.5))} ms`);
        console.log(`  end-to-end  p50 ${f1(pct(e2e, 0.5))} p95 ${f1(pct(e2e, 0.95))} ms;  ${ratio.toFixed(2)} × (session.run + decode)`);
        console.log(`  in the task p50: ${Object.entries(stages).map(([k, v]) => `${k.replace(/Ms$/, '')} ${pct(v, 0.5).toFixed(1)}`).join(', ')} ms`);
        const rates: string[] = [];
        for (const concurrency of [1, 2, 4]) {
          const total = ROUNDS * images.length;
          let next = 0;
          const t0 = performance.now();
          await Promise.all(Array.from({ length: concurrency }, async () => {
            while (next < total) await post(images[next++ % images.length]!, model);
          }));
          rates.push(`c=${concurrency} ${(total / ((performance.now() - t0) / 1000)).toFixed(1)}`);
        }
        console.log(`  images/s    ${rates.join('   ')}`);
      }
    }
    console.log('\ntargets at 640 px: end-to-end p50 ≤ 1.3 × (session.run + decode); centernet end-to-end p50 ≤ 60 ms');
  } finally {
    await app.close();
    await manager.close();
  }
}

await main();
