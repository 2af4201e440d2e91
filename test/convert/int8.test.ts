import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { calibrationTensors, measureRanges, snapRange } from '../../src/models/convert/quantize/calibrate.js';
import { quantiseInt8 } from '../../src/models/convert/quantize/int8.js';
import { activationTensors, affineU8, dropFloatCasts, quantiseQdq, quantiseWeights } from '../../src/models/convert/quantize/qdq.js';
import { GraphBuilder, tempDir } from '../kit/onnx.js';

const { onnx } = onnxProto;

/** mulberry32, so the tiny model's weights and inputs are the same every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const noise = (n: number, r: () => number, scale = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);

/** Conv 3→8 (3×3) → Relu → Conv 8→8 → Add (the first Relu's output) → Relu → Conv 8→1, with a no-op Cast of the input. */
function tinyNet(): onnxProto.onnx.IModelProto {
  const r = random(7);
  const g = new GraphBuilder('int8-tiny', 15);
  g.input('input', 'float32', [1, 3, 16, 16]);
  const x = g.op('Cast', ['input'], { to: 1 });
  const conv = (inp: string, cin: number, cout: number, k: number) => {
    const w = g.initializer(g.fresh('w'), [cout, cin, k, k], noise(cout * cin * k * k, r, 0.5));
    const b = g.initializer(g.fresh('b'), [cout], noise(cout, r, 0.1));
    return g.op('Conv', [inp, w, b], { kernel_shape: [k, k], pads: [k >> 1, k >> 1, k >> 1, k >> 1] });
  };
  const a = g.op('Relu', [conv(x, 3, 8, 3)]);
  const sum = g.op('Add', [conv(a, 8, 8, 3), a]);
  const y = conv(g.op('Relu', [sum]), 8, 1, 1);
  g.op('Identity', [y], {}, 'output');
  g.output('output', 'float32', [1, 1, 16, 16]);
  return g.toModel();
}

const bytes = (m: onnxProto.onnx.IModelProto) => onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
const input = { name: 'input', width: 16, height: 16, mean: 128, std: 64 };

async function run(model: Uint8Array, data: Float32Array, optimizedPath?: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, ...(optimizedPath ? { optimizedModelFilePath: optimizedPath } : {}) });
  try {
    return (await session.run({ input: new ort.Tensor('float32', data, [1, 3, 16, 16]) })).output!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('int8 quantisation helpers', () => {
  test('u8 activations cover their range and zero exactly; s8 weights are symmetric per output channel', () => {
    assert.deepEqual(affineU8({ min: -1, max: 3 }), { scale: 4 / 255, zeroPoint: 64 });
    const positive = affineU8({ min: 0.5, max: 2.55 });
    assert.ok(Math.abs(positive.scale - 0.01) < 1e-12 && positive.zeroPoint === 0, 'a positive range still starts at zero');
    const { q, scales } = quantiseWeights(Float32Array.from([0.5, -1, 0.25, 2, 0, -4]), 2);
    assert.deepEqual([...scales].map((s) => +s.toFixed(6)), [+(1 / 127).toFixed(6), +(4 / 127).toFixed(6)]);
    assert.deepEqual([...q], [64, -127, 32, 64, 0, -127]);
  });

  test('ranges snap outward to a 2^(1/8) grid, so last-bit differences between CPUs keep the same scale', () => {
    for (const r of [{ min: -0.73, max: 5.2 }, { min: 0, max: 1e-3 }, { min: -12, max: -1 }]) {
      const s = snapRange(r);
      assert.ok(s.min <= Math.min(0, r.min) + 1e-12 && s.max >= r.max, `${JSON.stringify(s)} covers ${JSON.stringify(r)}`);
      assert.ok(s.max <= Math.max(0, r.max) * 2 ** 0.125 + 1e-12 && -s.min <= -Math.min(0, r.min) * 2 ** 0.125 + 1e-12);
    }
    assert.deepEqual(snapRange({ min: -0.7300001, max: 5.2000001 }), snapRange({ min: -0.73, max: 5.2 }));
  });

  test('no-op float casts go, so Conv and Relu meet; the tensors to quantise are the convolutions\' inputs and outputs', () => {
    const model = tinyNet();
    assert.equal(dropFloatCasts(model.graph!), 1);
    assert.ok(!model.graph!.node!.some((n) => n.opType === 'Cast'));
    const tensors = activationTensors(model.graph!);
    const producers = tensors.map((t) => model.graph!.node!.find((n) => n.output?.includes(t))?.opType ?? 'graph input');
    assert.deepEqual(producers.sort(), ['Add', 'Conv', 'Conv', 'Relu', 'Relu', 'graph input'], 'a Conv read only by a Relu is quantised after the Relu');
  });

  test('a missing calibration folder fails the conversion naming the folder and the remedy', async () => {
    await assert.rejects(calibrationTensors('/nonexistent/calibration', input), /int8: no calibration photos in \/nonexistent\/calibration: reinstall the service with its calibration\/ folder/);
  });

  test('a tensor without a calibrated range is an error naming it', () => {
    const model = tinyNet();
    dropFloatCasts(model.graph!);
    assert.throws(() => quantiseQdq(model.graph!, new Map()), /int8: no calibrated range for tensor relu_\d+/);
  });
});

describe('the int8 converter on a tiny network', () => {
  test('calibrated on photos, quantised, fused by onnxruntime into QLinearConv, and within a few steps of fp32', async () => {
    const dir = tempDir();
    const photos = path.join(dir, 'photos');
    fs.mkdirSync(photos);
    const r = random(11);
    for (let i = 0; i < 3; i++) {
      const px = Buffer.from(Uint8Array.from({ length: 32 * 32 * 3 }, () => Math.floor(r() * 256)));
      await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(path.join(photos, `p${i}.png`));
    }
    const fp32 = bytes(tinyNet());
    const int8 = await quantiseInt8(fp32, { passes: [], calibration: { dir: photos, input } });
    assert.deepEqual(int8, await quantiseInt8(fp32, { passes: [], calibration: { dir: photos, input } }), 'deterministic');
    const decoded = onnx.ModelProto.decode(int8).graph!;
    assert.equal(decoded.node!.filter((n) => n.opType === 'QuantizeLinear').length, 6);
    assert.ok(decoded.initializer!.some((t) => t.dataType === onnx.TensorProto.DataType.INT8));

    const optimized = path.join(dir, 'optimized.onnx');
    const [sample] = await calibrationTensors(photos, input);
    const [want, got] = [await run(fp32, sample!), await run(int8, sample!, optimized)];
    const ops = onnx.ModelProto.decode(fs.readFileSync(optimized)).graph!.node!.map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'QLinearConv').length, 3, `onnxruntime's graph: ${[...new Set(ops)].join(', ')}`);
    const span = Math.max(...want) - Math.min(...want);
    const worst = want.reduce((m, v, i) => Math.max(m, Math.abs(v - got[i]!)), 0);
    assert.ok(worst < 0.05 * span, `worst difference ${worst.toFixed(4)} of a ${span.toFixed(3)} range`);
  });

  test('measured ranges hold every value the probed tensors took on the calibration inputs', async () => {
    const model = tinyNet();
    dropFloatCasts(model.graph!);
    const r = random(3);
    const images = [noise(3 * 256, r, 2), noise(3 * 256, r, 2)];
    const ranges = await measureRanges(model, ['input'], input, images);
    const all = images.flatMap((a) => [...a]);
    assert.ok(ranges.get('input')!.min <= Math.min(...all) && ranges.get('input')!.max >= Math.max(...all));
  });
});
