/**
 * /health latency while inference keeps both cores busy (issue 3 target: p99 ≤ 50 ms).
 * Starts the real service as a child process on the real ISNet weights (pulled into .models on
 * first use), keeps CONCURRENCY background-removal requests in flight, and polls /health every
 * 20 ms. Run: npm run bench:health [-- --seconds 30 --concurrency 4]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { fixturePath } from '../test/kit/fixtures.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, concurrency: { type: 'string', default: '4' }, model: { type: 'string', default: 'isnet-general' } } });
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const port = 18000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function waitReady(): Promise<void> {
  for (;;) {
    const ok = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', REQUEST_TIMEOUT: '5m', MAX_QUEUED_REQUESTS: '64' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
try {
  await waitReady();
  const photo = await sharp(fixturePath('faces-group-1.jpg')).resize(1024).jpeg().toBuffer();
  const body = JSON.stringify({ image: photo.toString('base64'), options: { model: values.model } });
  const post = () => fetch(`${base}/api/v1/transformers/remove-background`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.arrayBuffer());
  await post();
  const until = Date.now() + seconds * 1000;
  let done = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (Date.now() < until) {
      await post();
      done += 1;
    }
  });
  const health: number[] = [];
  const probe = (async () => {
    while (Date.now() < until) {
      const t = performance.now();
      await fetch(`${base}/health`).then((r) => r.arrayBuffer());
      health.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await Promise.all([...workers, probe]);
  health.sort((a, b) => a - b);
  console.log(`inference: ${done} images in ${seconds} s at concurrency ${concurrency} (${(done / seconds).toFixed(2)}/s, model ${values.model})`);
  console.log(`/health: n=${health.length} p50=${percentile(health, 0.5).toFixed(1)} ms p95=${percentile(health, 0.95).toFixed(1)} ms p99=${percentile(health, 0.99).toFixed(1)} ms max=${(health.at(-1) ?? NaN).toFixed(1)} ms`);
} finally {
  child.kill('SIGTERM');
}
