/**
 * The GPU smoke check, for any host with an NVIDIA GPU (scripts/gpu-smoke.sh runs it):
 *   1. device detection, as the service does it;
 *   2. ISNet's GPU memory after loading and after a run, and its session.run time;
 *   3. every default model loaded on the GPU: its measured VRAM against the manifest's estimate,
 *      and what its release gave back;
 *   4. the service on a simulated small card (VRAM_TOTAL_MB, default 6144) under a burst of mixed
 *      requests: evictions, out-of-memory demotions and /health latency.
 * Needs the default models in MODEL_DIR (`npm run models -- pull --defaults` where a registry is
 * reachable). Exits 1 when no GPU is usable, printing why.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { detectDevice } from '../src/models/device.js';
import { nvidiaSmiMemoryReader } from '../src/models/gpu-memory.js';
import { loadManifest } from '../src/models/manifest.js';
import { InferencePool } from '../src/models/worker/inference-pool.js';
import { buildModels } from '../src/service.js';
import { fixturePath } from '../test/kit/fixtures.js';
import { percentile } from '../bench/kit.js';

const { values } = parseArgs({
  options: {
    'vram-total-mb': { type: 'string', default: '6144' },
    burst: { type: 'string', default: '96' },
    concurrency: { type: 'string', default: '12' },
  },
});

const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
const logger = createLogger(config.LOG_LEVEL);
const readGpu = nvidiaSmiMemoryReader(0);
const pad = (v: unknown, n: number) => String(v).padEnd(n);

async function detection() {
  const device = await detectDevice(config);
  console.log(`device: ${device.primary} (${device.reason})`);
  if (device.primary === 'cpu') process.exit(1);
  return device;
}

/**
 * ISNet's GPU memory after session creation and after one 1024² run: what the arena adds to the
 * weights is what the promotion margin has to cover.
 */
async function arenaGrowth(): Promise<void> {
  const pool = new InferencePool({ workers: 1, intraOpThreads: 2, logger });
  const modelPath = path.join(config.MODEL_DIR, 'isnet-general.onnx');
  try {
    const before = await readGpu();
    await pool.load('isnet-general@cuda:0', { modelPath, device: 'cuda:0' });
    const loaded = await readGpu();
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const out = await pool.run('isnet-general@cuda:0', { input: { type: 'float32', dims: [1, 3, 1024, 1024], data: new Float32Array(3 * 1024 * 1024) } });
      runs.push(out.inferenceMs);
    }
    const ran = await readGpu();
    if (before && loaded && ran) console.log(`isnet-general on cuda:0: +${loaded.mb - before.mb} MB loaded, +${ran.mb - before.mb} MB after 1024² runs (${ran.scope}-wide); session.run ${runs.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  } finally {
    await pool.close();
  }
}

/** Every default model loaded on the GPU through the ModelManager, one at a time. */
async function footprints(totalMB: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-smoke-'));
  const db = openDatabase(path.join(dir, 'smoke.db'));
  const manifest = loadManifest();
  const { manager } = buildModels({ ...config, DATA_DIR: dir }, logger, db, manifest, { primary: 'cuda:0', vramTotalMB: totalMB, reason: 'smoke' });
  console.log(`\n${pad('model', 20)}${pad('zone', 10)}${pad('estimate', 10)}${pad('measured', 10)}${pad('ratio', 7)}${pad('on', 8)}released`);
  try {
    for (const spec of manifest.models.filter((m) => m.default)) {
      const started = performance.now();
      const info = await manager.load(spec.id).catch((err: unknown) => err as Error);
      if (info instanceof Error) {
        console.log(`${pad(spec.id, 20)}${pad(spec.zone, 10)}failed: ${info.message.split('\n')[0]}`);
        continue;
      }
      const measured = info.measuredMB['cuda:0'];
      const before = await readGpu();
      manager.unload(spec.id);
      await new Promise((r) => setTimeout(r, 500));
      const after = await readGpu();
      const ratio = measured === undefined ? '-' : (measured / spec.memoryMB).toFixed(2);
      const freed = before && after ? `${before.mb - after.mb} MB` : '-';
      console.log(`${pad(spec.id, 20)}${pad(spec.zone, 10)}${pad(`${spec.memoryMB} MB`, 10)}${pad(measured === undefined ? '-' : `${measured} MB`, 10)}${pad(ratio, 7)}${pad(info.device, 8)}${freed}  (${Math.round(performance.now() - started)} ms)`);
    }
  } finally {
    await manager.close();
    db.close();
  }
}

/** The service as npm start runs it, told the card has `vramMB`, under a burst of mixed requests. */
async function burst(vramMB: number, requests: number, concurrency: number): Promise<void> {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-smoke-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', VRAM_TOTAL_MB: String(vramMB), DATA_DIR: dataDir, PULL_MODELS_ON_START: 'false', MAX_QUEUED_REQUESTS: '256', MODEL_KEEP_ALIVE: '10m' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (;;) {
      if (await fetch(`${base}/ready`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const photo = (await sharp(fixturePath('faces-group-1.jpg')).resize(1024).jpeg().toBuffer()).toString('base64');
    const small = (await sharp(fixturePath('faces-group-1.jpg')).resize(256).jpeg().toBuffer()).toString('base64');
    const calls: { route: string; image: string; options?: object }[] = [
      { route: 'transformers/remove-background', image: photo },
      { route: 'face/detect', image: photo, options: { plugins: ['landmarks', 'embedding', 'antispoof', 'age', 'gender'] } },
      { route: 'transformers/detect-objects', image: photo },
      { route: 'realesrgan/upscale', image: small },
    ];
    const statuses = new Map<string, number>();
    const devices = new Map<string, number>();
    let next = 0;
    let running = true;
    const health: number[] = [];
    const probe = (async () => {
      while (running) {
        const t = performance.now();
        await fetch(`${base}/health`).then((r) => r.arrayBuffer());
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const call = calls[next++ % calls.length]!;
        const res = await fetch(`${base}/api/v1/${call.route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: call.image, ...(call.options ? { options: call.options } : {}) }) });
        const body = (await res.json().catch(() => ({}))) as { result?: { metadata?: { device?: string } } };
        const key = `${call.route} ${res.status}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        const device = body.result?.metadata?.device ?? '?';
        devices.set(device, (devices.get(device) ?? 0) + 1);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    running = false;
    await probe;
    const vram = (await (await fetch(`${base}/api/v1/vram`)).json()) as { result: { decisions: { kind: string; victims: unknown[]; reason: string }[]; pools: unknown[] } };
    const decisions = vram.result.decisions;
    health.sort((a, b) => a - b);
    console.log(`\nburst: ${requests} requests at concurrency ${concurrency} in ${seconds.toFixed(1)} s, VRAM_TOTAL_MB=${vramMB}`);
    for (const [k, n] of [...statuses].sort()) console.log(`  ${pad(k, 44)}${n}`);
    console.log(`  answered on: ${[...devices].map(([d, n]) => `${d} ${n}`).join(', ')}`);
    console.log(`  evictions ${decisions.reduce((n, d) => n + d.victims.length, 0)}  OOM demotions ${decisions.filter((d) => d.kind === 'demote').length}  CPU fallbacks ${decisions.filter((d) => d.kind === 'cpuFallback').length} (last ${decisions.length} decisions)`);
    for (const d of decisions.filter((x) => x.kind === 'demote' || x.victims.length > 0).slice(0, 8)) console.log(`    ${d.kind}: ${d.reason}`);
    console.log(`  /health: n=${health.length} p50=${percentile(health, 50).toFixed(1)} ms p99=${percentile(health, 99).toFixed(1)} ms max=${(health.at(-1) ?? NaN).toFixed(1)} ms`);
    console.log(`  pools: ${JSON.stringify(vram.result.pools)}`);
  } finally {
    child.kill('SIGTERM');
  }
}

const device = await detection();
await arenaGrowth();
await footprints(device.vramTotalMB ?? Number(values['vram-total-mb']));
await burst(Number(values['vram-total-mb']), Number(values.burst), Number(values.concurrency));
