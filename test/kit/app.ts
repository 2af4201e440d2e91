import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { z } from 'zod';
import { testConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { ModelRunner } from '../../src/models/runner.js';
import { createApp, type AppDeps } from '../../src/server.js';
import { createTaskRegistry } from '../../src/tasks/registry.js';
import type { TaskDefinition } from '../../src/tasks/types.js';
import { directRunner } from './direct-runner.js';
import { GraphBuilder } from './onnx.js';

/** input [1,3,'h','w'] → 1 − input: a tiny model with an image-to-image signature. */
export function invertModel(): Uint8Array {
  const g = new GraphBuilder('invert');
  g.input('input', 'float32', [1, 3, 'h', 'w']);
  const one = g.initializer('one', [1], new Float32Array([1]));
  g.op('Sub', [one, 'input'], {}, 'output');
  g.output('output', 'float32', [1, 3, 'h', 'w']);
  return g.toBytes();
}

/**
 * A test-only task: inverts colours through the 'test-invert' model. `delayMs` holds the run open
 * (waiting on the abort signal), so tests can fill the overload gate without sleeps deciding anything.
 */
export function invertTask(hold?: { started: (n: number) => void; release: Promise<void> }): TaskDefinition {
  let count = 0;
  const options = z.object({ outputFormat: z.enum(['png', 'webp']).default('png') }).strict();
  const task: TaskDefinition<typeof options> = {
    name: 'test-invert',
    route: 'test/invert',
    shortRoute: 'test-invert',
    description: 'Inverts colours (tests only).',
    options,
    models: () => ['test-invert'],
    async run(image, opts, ctx) {
      count += 1;
      hold?.started(count);
      if (hold) await hold.release;
      const { data, info } = await sharp(image.buffer).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const { width: w, height: h } = info;
      const input = new Float32Array(3 * w * h);
      for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) input[c * w * h + i] = (data[i * 3 + c] as number) / 255;
      const { outputs, device } = await ctx.runner.run('test-invert', { input: { type: 'float32', dims: [1, 3, h, w], data: input } });
      const out = outputs.output!.data as Float32Array;
      const px = Buffer.alloc(3 * w * h);
      for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) px[i * 3 + c] = Math.round((out[c * w * h + i] as number) * 255);
      const encoded = await sharp(px, { raw: { width: w, height: h, channels: 3 } })[opts.outputFormat]().toBuffer();
      return { kind: 'image', image: encoded, format: opts.outputFormat, metadata: { model: 'test-invert', device, width: w, height: h } };
    },
  };
  return task;
}

export interface TestApp {
  url: string;
  config: Config;
  logs: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  tasks?: TaskDefinition[];
  runner?: ModelRunner;
  deps?: Partial<AppDeps>;
  ready?: boolean;
}

/** Starts the real app on 127.0.0.1:0 with a log capture; every test gets its own. */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const config = testConfig({ LOG_LEVEL: 'info', ...opts.env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger(config.LOG_LEVEL, sink);
  const runner = opts.runner ?? directRunner({ 'test-invert': invertModel() });
  const app = createApp(config, {
    logger,
    runner,
    tasks: createTaskRegistry(opts.tasks ?? [invertTask()]),
    health: { device: () => 'cpu', models: () => [] },
    readiness: { isReady: () => opts.ready ?? true, reason: () => 'starting up' },
    ...opts.deps,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    logs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A small PNG made with sharp: a dark square on a light background. */
export async function samplePng(width = 32, height = 24): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 230, g: 230, b: 230 } } })
    .composite([{ input: { create: { width: Math.ceil(width / 2), height: Math.ceil(height / 2), channels: 3, background: { r: 20, g: 20, b: 20 } } }, left: 0, top: 0 }])
    .png()
    .toBuffer();
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
