/**
 * Writes a scheduler trace: `npx tsx bench/generate-scheduler-trace.ts [--kind zipf|bursty|size-skewed|
 * overcommit] [--seed 42] [--requests 3000] [--gpu-mb 4096] [--out FILE]`. Deterministic for a seed.
 *
 * zipf: popularity follows a Zipf law (s = 1.1) over a realistic FotoFun model set; arrivals are
 * Poisson (mean gap 1.2 s) with occasional lulls of 5–15 min, so keep-alive unloads happen too.
 * bursty: the same models, but popularity is reshuffled every 300 requests and a third of the
 * requests start a batch (5–20 requests of one model 50–300 ms apart, a user working a folder).
 * size-skewed: the popularity order is the size order, largest first, so the zones fight over the
 * big models. overcommit: 30 models, about three times what the zones hold, under a flatter Zipf
 * (s = 0.8). Footprints are session sizes on the GPU (weights plus the arena at the default input
 * size); some measured sizes exceed the manifest's estimate, as they do in practice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TraceSchema, type TraceInput } from './scheduler-trace.js';

type Model = TraceInput['models'][number] & { gpuMs: number };

// In popularity order: rank 1 is the most requested.
const MODELS: Model[] = [
  { id: 'face-detect', zone: 'critical', estimatedMB: 5, gpuMs: 3, cpuSlowdown: 3 },
  { id: 'isnet-general', zone: 'high', estimatedMB: 170, actualMB: 236, gpuMs: 60, cpuSlowdown: 15 },
  { id: 'face-embed', zone: 'high', estimatedMB: 20, gpuMs: 4, cpuSlowdown: 3 },
  { id: 'realesrgan-x4plus', zone: 'flexible', estimatedMB: 270, actualMB: 310, gpuMs: 900, cpuSlowdown: 30 },
  { id: 'ocr-det', zone: 'high', estimatedMB: 60, gpuMs: 25, cpuSlowdown: 4 },
  { id: 'ocr-rec', zone: 'high', estimatedMB: 90, gpuMs: 15, cpuSlowdown: 4 },
  { id: 'depth-anything-small', zone: 'high', estimatedMB: 400, gpuMs: 40, cpuSlowdown: 20 },
  { id: 'gfpgan-v1.4', zone: 'flexible', estimatedMB: 680, gpuMs: 120, cpuSlowdown: 25 },
  { id: 'lama', zone: 'flexible', estimatedMB: 820, actualMB: 900, gpuMs: 180, cpuSlowdown: 25 },
  { id: 'detr-resnet50', zone: 'high', estimatedMB: 480, gpuMs: 70, cpuSlowdown: 15 },
  { id: 'realesrgan-x4fast', zone: 'flexible', estimatedMB: 40, gpuMs: 150, cpuSlowdown: 12 },
  { id: 'realesrgan-x4plus-anime', zone: 'flexible', estimatedMB: 120, gpuMs: 300, cpuSlowdown: 25 },
  { id: 'depth-anything-base', zone: 'high', estimatedMB: 1100, gpuMs: 110, cpuSlowdown: 25 },
  { id: 'codeformer', zone: 'flexible', estimatedMB: 750, gpuMs: 200, cpuSlowdown: 25 },
  { id: 'face-landmarks', zone: 'critical', estimatedMB: 4, gpuMs: 2, cpuSlowdown: 3 },
  { id: 'face-liveness', zone: 'critical', estimatedMB: 6, gpuMs: 2, cpuSlowdown: 3 },
  { id: 'style-transfer', zone: 'flexible', estimatedMB: 60, gpuMs: 50, cpuSlowdown: 15 },
];

/** Extra models for the overcommit trace: the manifest's other variants and sizes. */
const MORE_MODELS: Model[] = [
  { id: 'u2net', zone: 'high', estimatedMB: 330, gpuMs: 70, cpuSlowdown: 15 },
  { id: 'rmbg-1.4', zone: 'high', estimatedMB: 360, gpuMs: 65, cpuSlowdown: 15 },
  { id: 'isnet-general-use', zone: 'high', estimatedMB: 340, gpuMs: 60, cpuSlowdown: 15 },
  { id: 'face-embed-arcface', zone: 'high', estimatedMB: 250, gpuMs: 6, cpuSlowdown: 5 },
  { id: 'face-detect-scrfd', zone: 'critical', estimatedMB: 40, gpuMs: 5, cpuSlowdown: 4 },
  { id: 'dpt-large', zone: 'flexible', estimatedMB: 1400, gpuMs: 160, cpuSlowdown: 25 },
  { id: 'realesr-animevideov3-x2', zone: 'flexible', estimatedMB: 30, gpuMs: 80, cpuSlowdown: 12 },
  { id: 'realesr-animevideov3-x4', zone: 'flexible', estimatedMB: 30, gpuMs: 120, cpuSlowdown: 12 },
  { id: 'migan', zone: 'flexible', estimatedMB: 110, gpuMs: 40, cpuSlowdown: 15 },
  { id: 'style-candy', zone: 'flexible', estimatedMB: 60, gpuMs: 50, cpuSlowdown: 15 },
  { id: 'style-udnie', zone: 'flexible', estimatedMB: 60, gpuMs: 50, cpuSlowdown: 15 },
  { id: 'nanodet', zone: 'flexible', estimatedMB: 30, gpuMs: 8, cpuSlowdown: 5 },
  { id: 'ocr-cls', zone: 'flexible', estimatedMB: 15, gpuMs: 3, cpuSlowdown: 3 },
];

const KINDS = ['zipf', 'bursty', 'size-skewed', 'overcommit'] as const;
type Kind = (typeof KINDS)[number];

const ZIPF_S = 1.1;
const MEAN_GAP_MS = 1_200;
const LULL_PROBABILITY = 0.005;

/** mulberry32: a tiny, well-mixed 32-bit PRNG; enough for reproducible synthetic traffic. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function zipfSampler(n: number, s: number, random: () => number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  weights.reduce((acc, w) => (cumulative.push((acc + w) / total), acc + w), 0);
  return () => {
    const u = random();
    const i = cumulative.findIndex((c) => u <= c);
    return i === -1 ? n - 1 : i;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function modelsFor(kind: Kind): Model[] {
  if (kind === 'size-skewed') return [...MODELS].sort((a, b) => (b.actualMB ?? b.estimatedMB) - (a.actualMB ?? a.estimatedMB));
  if (kind === 'overcommit') return [...MODELS, ...MORE_MODELS];
  return MODELS;
}

function requestsFor(kind: Kind, models: Model[], count: number, random: () => number): { requests: TraceInput['requests']; t: number } {
  const pick = zipfSampler(models.length, kind === 'overcommit' ? 0.8 : ZIPF_S, random);
  let order = models;
  const requests: TraceInput['requests'] = [];
  const push = (t: number, model: Model) => {
    const jitter = Math.exp((random() - 0.5) * 0.6); // ±30 % log-uniform: image sizes vary
    requests.push({ t: Math.round(t), model: model.id, durationMs: Math.round(model.gpuMs * jitter * 10) / 10 });
  };
  let t = 0;
  while (requests.length < count) {
    if (kind === 'bursty' && requests.length % 300 === 0) order = shuffled(models, random);
    t += random() < LULL_PROBABILITY ? 300_000 + random() * 600_000 : -Math.log(1 - random()) * MEAN_GAP_MS;
    const model = order[pick()]!;
    push(t, model);
    if (kind !== 'bursty' || random() >= 1 / 3) continue;
    const batch = 5 + Math.floor(random() * 16);
    for (let i = 0; i < batch && requests.length < count; i++) {
      t += 50 + random() * 250;
      push(t, model);
    }
  }
  return { requests, t };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      kind: { type: 'string', default: 'zipf' },
      seed: { type: 'string', default: '42' },
      requests: { type: 'string', default: '3000' },
      'gpu-mb': { type: 'string', default: '4096' },
      out: { type: 'string', default: 'bench/traces/zipf-4gb.json' },
    },
  });
  const kind = values.kind as Kind;
  if (!KINDS.includes(kind)) throw new Error(`unknown --kind ${values.kind}: use ${KINDS.join(', ')}`);
  const seed = Number(values.seed);
  const random = mulberry32(seed);
  const models = modelsFor(kind);
  const { requests, t } = requestsFor(kind, models, Number(values.requests), random);
  const name = kind === 'zipf' ? `zipf-s${ZIPF_S}-seed${seed}` : `${kind}-seed${seed}`;
  const trace: TraceInput = {
    name,
    description: kind === 'zipf'
      ? `${requests.length} requests, Zipf(s=${ZIPF_S}) over ${models.length} models, Poisson arrivals (mean gap ${MEAN_GAP_MS} ms) with lulls; generated by bench/generate-scheduler-trace.ts --seed ${seed}`
      : `${requests.length} requests, ${kind} over ${models.length} models; generated by bench/generate-scheduler-trace.ts --kind ${kind} --seed ${seed} --gpu-mb ${values['gpu-mb']}`,
    device: { gpuTotalMB: Number(values['gpu-mb']), cpuBudgetMB: 8192, keepAliveMs: 600_000, gpuLoadMsPerMB: 3, cpuLoadMsPerMB: 2 },
    models: models.map(({ gpuMs: _gpuMs, ...m }) => m),
    requests,
  };
  TraceSchema.parse(trace);
  fs.mkdirSync(path.dirname(values.out), { recursive: true });
  // One request per line keeps the committed file short and its diffs readable.
  const head = JSON.stringify({ ...trace, requests: [] }, null, 2).replace(/"requests": \[\]\n}$/, '"requests": [\n');
  const body = requests.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
  fs.writeFileSync(values.out, `${head}${body}\n  ]\n}\n`);
  console.log(`wrote ${values.out}: ${requests.length} requests over ${(t / 3_600_000).toFixed(1)} h`);
}

main();
