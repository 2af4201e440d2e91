import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fixture } from '../kit/fixtures.js';
import { meanSigmoidModel, tempDir } from '../kit/onnx.js';

/**
 * The real server (src/main.ts) as a child process, killed with SIGKILL mid-job and restarted on the
 * same DATA_DIR. The task is remove-background with 'u2netp', a trust-on-first-use model the test
 * places in MODEL_DIR as a tiny ONNX graph with u2netp's input/output signature.
 */
interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

const JOBS = 6;
const image = fixture('faces-group-1.jpg').toString('base64');

function serviceEnv(dataDir: string, modelDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['API_KEY', 'ADMIN_API_KEY', 'RATE_LIMIT_PER_MINUTE', 'WEBHOOK_SECRET']) delete env[key];
  return {
    ...env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, MODEL_DIR: modelDir, PULL_MODELS_ON_START: 'false',
    JOB_CONCURRENCY: '1', JOB_MAX_ATTEMPTS: '3', LOG_LEVEL: 'info', INFERENCE_WORKERS: '1', NODE_ENV: 'test',
  };
}

/** Starts src/main.ts and resolves once its 'ready' log line names the port. */
async function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr += String(c); });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += String(c);
      for (const line of out.split('\n')) {
        if (!line.includes('"msg":"ready"')) continue;
        resolve((JSON.parse(line) as { address: { port: number } }).address.port);
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before ready:\n${stderr}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/api/v1/jobs`, exited };
}

async function submit(url: string, key: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ operation: 'remove-background', image, options: { model: 'u2netp' } }),
  });
}

/** Reads a job's SSE stream until `stop` matches a frame, or to its end; returns the frames' text. */
async function watch(url: string, stop: (frame: string) => boolean = () => false): Promise<string[]> {
  const res = await fetch(url);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const frames: string[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return frames;
    buffer += decoder.decode(value, { stream: true });
    const parts = buffer.split('\n\n');
    buffer = parts.pop() ?? '';
    frames.push(...parts);
    if (parts.some(stop)) {
      await reader.cancel();
      return frames;
    }
  }
}

test('every accepted job completes exactly once across a SIGKILL and restart of the real server', { timeout: 50_000 }, async () => {
  const root = tempDir('fotofun-crash-');
  const modelDir = path.join(root, 'models');
  fs.mkdirSync(modelDir);
  fs.writeFileSync(path.join(modelDir, 'u2netp.onnx'), meanSigmoidModel('input.1', 'output').toBytes());
  const env = serviceEnv(path.join(root, 'data'), modelDir);

  const first = await startServer(env);
  const ids: string[] = [];
  try {
    for (let i = 0; i < JOBS; i += 1) {
      const res = await submit(first.url, `crash-${i}`);
      assert.equal(res.status, 202);
      ids.push(((await res.json()) as { result: { jobId: string } }).result.jobId);
    }
    await watch(`${first.url}/${ids[1]}/events`, (f) => f.includes('"to":"processing"'));
  } finally {
    first.child.kill('SIGKILL');
    await first.exited;
  }

  const second = await startServer(env);
  try {
    const streams = await Promise.all(ids.map((id) => watch(`${second.url}/${id}/events`)));
    for (const [i, frames] of streams.entries()) {
      assert.equal(frames.filter((f) => f.includes('event: done')).length, 1, `job ${i} reports done exactly once`);
      assert.equal(frames.filter((f) => f.includes('event: failed')).length, 0, `job ${i} never failed`);
    }
    const interrupted = streams.filter((frames) => frames.some((f) => f.includes('"from":"processing","to":"pending"')));
    assert.ok(interrupted.length >= 1, 'the kill landed while a job was running');

    for (const id of ids) {
      const view = (await (await fetch(`${second.url}/${id}`)).json()) as { result: { status: string; attempts: number; model: string } };
      assert.equal(view.result.status, 'completed');
      assert.equal(view.result.model, 'u2netp');
      const result = await fetch(`${second.url}/${id}/result`);
      assert.equal(result.headers.get('content-type'), 'image/png');
      assert.ok((await result.arrayBuffer()).byteLength > 0);
    }
    const again = await submit(second.url, 'crash-0');
    assert.equal(again.status, 200, 'the Idempotency-Key survives the restart');
    assert.equal(((await again.json()) as { result: { jobId: string } }).result.jobId, ids[0]);
    const list = (await (await fetch(`${second.url}?limit=100`)).json()) as { result: { jobs: unknown[] } };
    assert.equal(list.result.jobs.length, JOBS, 'no job was created twice');
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
