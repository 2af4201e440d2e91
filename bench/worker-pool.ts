/**
 * Picks INFERENCE_WORKERS and INTRA_OP_THREADS by measurement: throughput, latency and main-thread
 * responsiveness (a 5 ms interval timer standing in for /health) for workers ∈ {1,2} × intra-op
 * threads ∈ {1,2} at concurrency 1, 2 and 4, with onnxruntime's thread spin-waiting off (the pool's
 * default) and on, plus the same model run on the main thread for contrast.
 *
 *   npx tsx bench/worker-pool.ts [--rounds 3]
 *
 * A session lives in one worker, so the model is loaded once per worker under its own key and
 * requests go round-robin over the keys: that is how different models share the pool in production.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import type { Feeds } from '../src/models/tensor.js';
import { InferencePool } from '../src/models/worker/inference-pool.js';
import { heavyConvModel } from '../test/kit/onnx.js';

const CHANNELS = 64;
const SIZE = 256;
/** 6 × (64→64 3×3 conv at 256²) ≈ 29 GFLOP: 130–180 ms per run on one core here, ~65 ms on two. */
const LAYERS = 6;
const CONCURRENCY = [1, 2, 4];
const RUNS_PER_SLOT = 3;

const heavyModel = (): Uint8Array => heavyConvModel(LAYERS, CHANNELS).toBytes();

/**
 * Written on this thread, as preprocessing does. Untouched calloc'd buffers are not realistic and
 * not harmless: a worker faulting in their pages while this thread allocates and frees more
 * stalled this thread for 45–115 ms per run (measured), spikes that written buffers do not show.
 */
const feeds = (): Feeds => ({
  x: { type: 'float32', dims: [1, CHANNELS, SIZE, SIZE], data: new Float32Array(CHANNELS * SIZE * SIZE).fill(0.5) },
});

/** Feeds for a whole cell, built before timing starts so the lag probe measures the pool alone. */
const feedsFor = (runs: number): Feeds[] => Array.from({ length: runs }, feeds);

interface LagProbe {
  stop(): { maxMs: number; p99Ms: number };
}

/** How late a 5 ms interval fires: what a /health request would wait behind. */
function probeLag(intervalMs = 5): LagProbe {
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - intervalMs));
    last = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      // The interval may not have fired at all if the thread was blocked the whole time.
      lags.push(Math.max(0, performance.now() - last - intervalMs));
      return { maxMs: Math.max(...lags), p99Ms: percentile(lags, 0.99) };
    },
  };
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

interface Row {
  setup: string;
  concurrency: number;
  runsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  lagMaxMs: number;
  lagP99Ms: number;
}

/** `concurrency` callers, each issuing runs back to back until `total` runs have started. */
async function drive(run: (i: number) => Promise<unknown>, concurrency: number, total: number) {
  const latencies: number[] = [];
  let started = 0;
  const caller = async () => {
    while (started < total) {
      const i = started++;
      const t0 = performance.now();
      await run(i);
      latencies.push(performance.now() - t0);
    }
  };
  const probe = probeLag();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = performance.now() - t0;
  const lag = probe.stop();
  return { runsPerSec: (total / elapsed) * 1000, p50Ms: percentile(latencies, 0.5), p95Ms: percentile(latencies, 0.95), lag };
}

async function benchPool(modelPath: string, workers: number, intraOpThreads: number, allowSpinning: boolean): Promise<Row[]> {
  const pool = new InferencePool({ workers, intraOpThreads, allowSpinning, logger: pino({ level: 'silent' }) });
  const setup = `pool ${workers}w × ${intraOpThreads}t${allowSpinning ? ' spin' : ''}`;
  try {
    const keys = Array.from({ length: workers }, (_, i) => `replica-${i}`);
    for (const key of keys) await pool.load(key, { modelPath, device: 'cpu' });
    await Promise.all(keys.map((k) => pool.run(k, feeds())));
    const rows: Row[] = [];
    for (const c of CONCURRENCY) {
      const runs = RUNS_PER_SLOT * Math.max(c, 2);
      const prepared = feedsFor(runs);
      const r = await drive((i) => pool.run(keys[i % keys.length] as string, prepared[i] as Feeds), c, runs);
      rows.push(row(setup, c, r));
    }
    return rows;
  } finally {
    await pool.close();
  }
}

/** The same model on the main thread: what the pool exists to avoid. */
async function benchMainThread(modelPath: string, intraOpThreads: number): Promise<Row[]> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: intraOpThreads, interOpNumThreads: 1 });
  // Nothing is transferred here, so one input serves every run.
  const x = new ort.Tensor('float32', feeds().x?.data as Float32Array, [1, CHANNELS, SIZE, SIZE]);
  await session.run({ x });
  const r = await drive(() => session.run({ x }), 1, RUNS_PER_SLOT * 2);
  await session.release();
  return [row(`main thread × ${intraOpThreads}t`, 1, r)];
}

function row(setup: string, concurrency: number, r: Awaited<ReturnType<typeof drive>>): Row {
  return { setup, concurrency, runsPerSec: r.runsPerSec, p50Ms: r.p50Ms, p95Ms: r.p95Ms, lagMaxMs: r.lag.maxMs, lagP99Ms: r.lag.p99Ms };
}

function print(rows: Row[]): void {
  const header = ['setup', 'conc', 'runs/s', 'p50 ms', 'p95 ms', 'lag max ms', 'lag p99 ms'];
  const cells = rows.map((r) => [
    r.setup,
    String(r.concurrency),
    r.runsPerSec.toFixed(2),
    r.p50Ms.toFixed(0),
    r.p95Ms.toFixed(0),
    r.lagMaxMs.toFixed(1),
    r.lagP99Ms.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

interface Setup {
  name: string;
  bench(modelPath: string): Promise<Row[]>;
}

const SETUPS: Setup[] = [
  ...[1, 2].flatMap((workers) => [
    ...[1, 2].map((threads) => ({ workers, threads, spin: false })),
    // Spinning only matters with more than one intra-op thread.
    { workers, threads: 2, spin: true },
  ]).map(({ workers, threads, spin }) => ({
    name: `pool ${workers}w × ${threads}t${spin ? ' spin' : ''}`,
    bench: (modelPath: string) => benchPool(modelPath, workers, threads, spin),
  })),
  { name: 'main thread × 2t', bench: (modelPath: string) => benchMainThread(modelPath, 2) },
];

/** Per cell: median throughput and latency over the rounds, worst max lag, median p99 lag. */
function summarise(rounds: Row[][]): Row[] {
  const first = rounds[0] ?? [];
  const median = (xs: number[]) => percentile(xs, 0.5);
  return first.map((cell, i) => {
    const same = rounds.map((r) => r[i] as Row);
    return {
      ...cell,
      runsPerSec: median(same.map((r) => r.runsPerSec)),
      p50Ms: median(same.map((r) => r.p50Ms)),
      p95Ms: median(same.map((r) => r.p95Ms)),
      lagMaxMs: Math.max(...same.map((r) => r.lagMaxMs)),
      lagP99Ms: median(same.map((r) => r.lagP99Ms)),
    };
  });
}

/** Setups are interleaved round by round so a burst of load elsewhere does not land on one setup. */
async function main(): Promise<void> {
  const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pool-'));
  try {
    const modelPath = path.join(dir, 'conv.onnx');
    fs.writeFileSync(modelPath, heavyModel());
    console.log(`${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? 'unknown'}; node ${process.version}; model ${LAYERS}× conv ${CHANNELS}ch ${SIZE}²; ${rounds} rounds`);
    // Other processes on the machine skew every figure; the load average says how much.
    console.log(`load average before: ${loadAverage()}`);
    const results: Row[][] = [];
    for (let round = 0; round < rounds; round++) {
      const rows: Row[] = [];
      for (const setup of SETUPS) rows.push(...(await setup.bench(modelPath)));
      results.push(rows);
      console.log(`round ${round + 1}/${rounds} done; load average ${loadAverage()}`);
    }
    print(summarise(results));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
