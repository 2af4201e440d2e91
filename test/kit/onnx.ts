import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphBuilder } from '../../src/models/onnx/graph-builder.js';

export { GraphBuilder };

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = 'fotofun-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a built model to `dir/name.onnx` and returns the path. */
export function writeModel(dir: string, name: string, g: GraphBuilder): string {
  const file = path.join(dir, `${name}.onnx`);
  fs.writeFileSync(file, g.toBytes());
  return file;
}

/** input [1,3,'h','w'] → Sigmoid(mean of channels) as [1,1,'h','w']: a mask-like model. */
export function meanSigmoidModel(inputName = 'input', outputName = 'output'): GraphBuilder {
  const g = new GraphBuilder('mean-sigmoid');
  g.input(inputName, 'float32', [1, 3, 'h', 'w']);
  const w = g.initializer('w', [1, 3, 1, 1], new Float32Array([1 / 3, 1 / 3, 1 / 3]));
  const c = g.op('Conv', [inputName, w], { kernel_shape: [1, 1] });
  g.op('Sigmoid', [c], {}, outputName);
  g.output(outputName, 'float32', [1, 1, 'h', 'w']);
  return g;
}

/** input [1,3,'h','w'] → nearest-neighbour ×scale upsample as [1,3,'H','W'] (an upscaler's signature). */
export function nearestUpscaleModel(scale: number, inputName = 'data', outputName = 'output'): GraphBuilder {
  const g = new GraphBuilder('nearest-upscale');
  g.input(inputName, 'float32', [1, 3, 'h', 'w']);
  const scales = g.initializer('scales', [4], new Float32Array([1, 1, scale, scale]));
  const roi = g.initializer('roi', [0], new Float32Array([]));
  g.op('Resize', [inputName, roi, scales], { mode: 'nearest' }, outputName);
  g.output(outputName, 'float32', [1, 3, 'H', 'W']);
  return g;
}

/** `layers` 3×3 convolutions of `channels`→`channels`: ≈4.8 GFLOP per layer at 64 ch, 256², so runs take long enough to watch. */
export function heavyConvModel(layers: number, channels: number): GraphBuilder {
  const g = new GraphBuilder('heavy-conv');
  g.input('x', 'float32', [1, channels, 'h', 'w']);
  const w = g.initializer('w', [channels, channels, 3, 3], new Float32Array(channels * channels * 9).fill(1 / (channels * 9)));
  let t = 'x';
  for (let i = 0; i < layers; i++) {
    t = g.op('Conv', [t, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, i === layers - 1 ? 'y' : undefined);
  }
  g.output('y', 'float32', [1, channels, 'h', 'w']);
  return g;
}

/** float32 in → Cast to fp16 → × an fp16 constant → Cast back: the shape of IMG.LY's fp16 export. */
export function halfPrecisionModel(): Uint8Array {
  const g = new GraphBuilder('half');
  g.input('input', 'float32', [1, 3]);
  // 2.5, -0.75 and 1/1024 in IEEE half precision: all exact, so the widened result is exact too.
  const k = g.initializer('k', [1, 3], new Uint16Array([0x4100, 0xba00, 0x1400]));
  const h = g.op('Cast', ['input'], { to: 10 /* FLOAT16 */ });
  const y = g.op('Mul', [h, k]);
  g.op('Cast', [y], { to: 1 /* FLOAT */ }, 'output');
  g.output('output', 'float32', [1, 3]);
  return g.toBytes();
}
