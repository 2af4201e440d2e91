/**
 * Start-up cost of the two ways to run the service: `npx tsx bench/start.ts [--rounds 3]`.
 * `tsx src/main.ts` (npm start) against `node dist/main.js` (npm run start:prod, after npm run
 * build): time from spawn to the first 200 from /health, and resident memory then and after a
 * model has been loaded into a worker (face-detect, fetched through the model store first).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchWeights, f, percentile } from './kit.js';

const ROOT = path.resolve(import.meta.dirname, '..');

const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function until(url: string, init?: RequestInit): Promise<void> {
  for (;;) {
    const ok = await fetch(url, init).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function once(command: string, args: string[], port: number) {
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', PULL_MODELS_ON_START: 'false', MODEL_DIR: path.join(ROOT, '.models'), DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-start-')) };
  const start = performance.now();
  const child = spawn(command, args, { cwd: ROOT, env, stdio: 'ignore' });
  try {
    await until(`http://127.0.0.1:${port}/health`);
    const healthMs = performance.now() - start;
    const idle = rssMB(child.pid!);
    await until(`http://127.0.0.1:${port}/api/v1/models/face-detect/load`, { method: 'POST' });
    return { healthMs, idle, loaded: rssMB(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
  if (!fs.existsSync(path.join(ROOT, 'dist/main.js'))) throw new Error('run `npm run build` first');
  await benchWeights('face-detect');
  // `tsx src/main.ts` is a wrapper that spawns exactly this node process; measuring it directly reads the right RSS.
  const modes = { 'node --import tsx src/main.ts (npm start)': ['--import', 'tsx', 'src/main.ts'], 'node dist/main.js (npm run start:prod)': ['dist/main.js'] } as const;
  console.log(`machine: ${os.availableParallelism()} cores; ${values.rounds} rounds each, medians`);
  console.log('| start | to first /health 200, ms | RSS idle, MB | RSS with face-detect loaded, MB |');
  console.log('| --- | --- | --- | --- |');
  let port = 18_300;
  for (const [name, args] of Object.entries(modes)) {
    const runs: Awaited<ReturnType<typeof once>>[] = [];
    for (let i = 0; i < Number(values.rounds); i++) runs.push(await once(process.execPath, [...args], port++));
    const med = (k: 'healthMs' | 'idle' | 'loaded') => percentile(runs.map((r) => r[k]), 50);
    console.log(`| \`${name}\` | ${f(med('healthMs'))} | ${f(med('idle'), 1)} | ${f(med('loaded'), 1)} |`);
  }
}

await main();
