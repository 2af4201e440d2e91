import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { createShutdown } from '../../src/shutdown.js';
import { tempDir } from '../kit/onnx.js';

test('shutdown stops the job queue at once, lets an in-flight request finish, refuses new connections, then closes the rest in order', async () => {
  let finish!: () => void;
  const gate = new Promise<void>((r) => (finish = r));
  let entered!: () => void;
  const inRoute = new Promise<void>((r) => (entered = r));
  const app = express();
  app.get('/slow', async (_req, res) => {
    entered();
    await gate;
    res.json({ done: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed: string[] = [];
  const shutdown = createShutdown(server, [
    { name: 'jobs', close: () => void closed.push('jobs'), withDrain: true },
    { name: 'models', close: () => void closed.push('models') },
    { name: 'db', close: () => void closed.push('db') },
  ], 5000, pino({ level: 'silent' }));

  const slow = fetch(`${url}/slow`);
  await inRoute;
  const stopping = shutdown();
  assert.equal(shutdown(), stopping, 'a second call returns the same promise');
  await assert.rejects(fetch(`${url}/slow`, { headers: { connection: 'close' } }), 'new connections are refused');
  assert.deepEqual(closed, ['jobs'], 'only the withDrain closer starts while a request is in flight');
  finish();
  assert.deepEqual(await (await slow).json(), { done: true });
  await stopping;
  assert.deepEqual(closed, ['jobs', 'models', 'db']);
});

test('shutdown cuts requests that outlast SHUTDOWN_TIMEOUT', async () => {
  const app = express();
  let entered!: () => void;
  const inRoute = new Promise<void>((r) => (entered = r));
  app.get('/forever', () => entered());
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pending = fetch(`${url}/forever`);
  await inRoute;
  await createShutdown(server, [], 50, pino({ level: 'silent' }))();
  await assert.rejects(pending);
});

test('the service exits 0 on SIGTERM after start-up', async () => {
  const dir = tempDir('shutdown-main-');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, MODEL_DIR: dir, PULL_MODELS_ON_START: 'false', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
      if (out.includes('"msg":"ready"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  assert.match(out, /shutdown complete/);
});

test('a bad configuration stops start-up with one message naming every bad variable', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: 'eighty', MAX_FILE_SIZE: 'huge' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += String(d)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(err, /PORT: expects a whole number/);
  assert.match(err, /MAX_FILE_SIZE: expects a size/);
});
