import sharp from 'sharp';
import type { ModelRunner, RunOptions } from '../../src/models/runner.js';
import type { TaskContext } from '../../src/tasks/types.js';
import { testConfig } from '../../src/config.js';
import { GraphBuilder } from '../kit/onnx.js';
import pino from 'pino';

/**
 * ISNet's signature with a 1×1 Conv + Sigmoid inside: after the (x − 128)/256 normalisation a
 * pixel whose channel mean is below 128 scores sigmoid(+k·…) ≈ 1 (subject), above 128 ≈ 0.
 * The slope is steep enough that black and white pixels come out as exactly 255 and 0, so pixel
 * assertions are exact. Two side outputs stand in for ISNet's eleven.
 */
export function darkIsSubjectModel(): Uint8Array {
  const g = new GraphBuilder('dark-is-subject');
  g.input('input', 'float32', [1, 3, 1024, 1024]);
  const k = -200 / 3;
  const w = g.initializer('w', [1, 3, 1, 1], new Float32Array([k, k, k]));
  const logits = g.op('Conv', ['input', w], { kernel_shape: [1, 1] });
  g.op('Sigmoid', [logits], {}, 'output');
  g.op('Identity', [logits], {}, '1890');
  g.op('Identity', ['output'], {}, '1891');
  g.output('output', 'float32', [1, 1, 1024, 1024]);
  g.output('1890', 'float32', [1, 1, 1024, 1024]);
  g.output('1891', 'float32', [1, 1, 1024, 1024]);
  return g.toBytes();
}

/** Records every RunOptions the task passes, around another runner. */
export function spyRunner(inner: ModelRunner): ModelRunner & { options: (RunOptions | undefined)[]; calls: string[] } {
  const options: (RunOptions | undefined)[] = [];
  const calls: string[] = [];
  return {
    options,
    calls,
    run(modelId, feeds, opts) {
      options.push(opts);
      calls.push(modelId);
      return inner.run(modelId, feeds, opts);
    },
  };
}

export function taskContext(runner: ModelRunner, overrides: Partial<TaskContext> = {}): TaskContext {
  return {
    runner,
    config: testConfig(),
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    onProgress: () => undefined,
    owner: 'test',
    ...overrides,
  };
}

export interface Shape {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A dark rectangle on a plain light background, as PNG. */
export function darkBoxOnLight(width: number, height: number, box: Shape, dark = 10, light = 245): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: light, g: light, b: light } } })
    .composite([{ input: { create: { width: box.width, height: box.height, channels: 3, background: { r: dark, g: dark, b: dark } } }, left: box.left, top: box.top }])
    .png()
    .toBuffer();
}

/** Decoded pixels with the file's own channel count (sharp would otherwise widen grey to sRGB). */
export async function rawPixels(encoded: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { channels } = await sharp(encoded).metadata();
  const pipeline = sharp(encoded);
  if (channels === 1) pipeline.toColourspace('b-w');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Intersection over union of two masks, each pixel counted as set when ≥ 128. */
export function maskIoU(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! >= 128;
    const y = b[i]! >= 128;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

export { FIXTURES } from '../kit/fixtures.js';
