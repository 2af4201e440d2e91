import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import * as tar from 'tar';
import { isAppError } from '../../src/errors.js';
import type { GraphPass, Manifest, ModelSpec, Source } from '../../src/models/manifest.js';
import type { ProgressEvent } from '../../src/models/progress.js';
import { CONVERTERS, type ConverterRegistry } from '../../src/models/store/converters.js';
import { ModelStore } from '../../src/models/store/model-store.js';
import { GraphBuilder, halfPrecisionModel, tempDir } from '../kit/onnx.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) % 251);

function model(id: string, source: Source): ModelSpec {
  return {
    id, task: 'test', family: 'face', zone: 'flexible', priority: 0, default: false, license: 'MIT', memoryMB: 1,
    description: 'test model', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 3, 4, 4], layout: 'NCHW', color: 'RGB', normalize: { scale: 1, mean: 0, std: 1 } }],
    outputs: [{ name: 'output', dtype: 'float32', shape: [1] }], source,
  };
}

/** A package tarball like npm's (`package/…`), with the chunk files deliberately out of order. */
async function buildPackage(files: Record<string, Uint8Array>): Promise<string> {
  const root = tempDir('fotofun-pkg-');
  const names = Object.keys(files).reverse();
  for (const name of names) {
    fs.mkdirSync(path.dirname(path.join(root, 'package', name)), { recursive: true });
    fs.writeFileSync(path.join(root, 'package', name), files[name]!);
  }
  fs.writeFileSync(path.join(root, 'package', 'package.json'), JSON.stringify({ name: 'fixture-models', version: '1.0.0' }));
  const tgz = path.join(root, 'fixture-models-1.0.0.tgz');
  await tar.c({ gzip: true, file: tgz, cwd: root }, ['package']);
  return `file:${tgz}`;
}

const detect = bytes(3000, 1);
const keys = new TextEncoder().encode('a\nb\nc\n');
const chunkBytes = [bytes(4096, 2), bytes(4096, 3), bytes(1000, 4)];
const whole = Uint8Array.from(chunkBytes.flatMap((c) => [...c]));
const param = new TextEncoder().encode('7767517\n1 1\nInput data 0 1 data\n');
const bin = bytes(64, 5);

async function fixture(opts: { detectSha?: string; converters?: ConverterRegistry } = {}) {
  const spec = await buildPackage({
    'model/detect.onnx': detect, 'model/keys.txt': keys, 'weights/x.param': param, 'weights/x.bin': bin,
    'dist/c0': chunkBytes[0]!, 'dist/c1': chunkBytes[1]!, 'dist/c2': chunkBytes[2]!,
  });
  const models = [
    model('det', { kind: 'npm', package: spec, files: [
      { path: 'model/detect.onnx', file: 'det.onnx', sha256: opts.detectSha ?? sha(detect), size: detect.length },
      { path: 'model/keys.txt', file: 'det-keys.txt', sha256: sha(keys), size: keys.length },
    ] }),
    model('big', { kind: 'npm-chunks', package: spec, file: 'big.onnx', sha256: sha(whole), size: whole.length,
      chunks: chunkBytes.map((c, i) => ({ path: `dist/c${i}`, sha256: sha(c), size: c.length })) }),
    model('up', { kind: 'convert', converter: 'ncnn', file: 'up.onnx', from: { kind: 'npm', package: spec, files: [
      { path: 'weights/x.param', file: 'up.param', sha256: sha(param), size: param.length },
      { path: 'weights/x.bin', file: 'up.bin', sha256: sha(bin), size: bin.length },
    ] } }),
  ];
  const modelDir = tempDir('fotofun-models-');
  const events: ProgressEvent[] = [];
  const converted: string[] = [];
  const converters: ConverterRegistry = opts.converters ?? {
    ...CONVERTERS,
    ncnn: async () => (inputs) => {
      converted.push([...inputs.keys()].sort().join(','));
      return Uint8Array.from([...inputs.get('up.param')!, ...inputs.get('up.bin')!]);
    },
  };
  const store = new ModelStore({
    modelDir, manifest: { version: 1, models } as Manifest, logger: pino({ level: 'silent' }),
    downloadTimeoutMs: 30_000, onProgress: (e) => events.push(e), converters,
  });
  return { spec, store, modelDir, events, converted };
}

describe('ModelStore with npm sources', () => {
  test('extracts only the listed files from the tarball and returns the verified main file', async () => {
    const { store, modelDir } = await fixture();
    assert.equal(store.status('det'), 'missing');
    const file = await store.ensure('det');
    assert.equal(file, path.join(modelDir, 'det.onnx'));
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), detect);
    assert.equal(fs.readFileSync(store.filePaths('det')['det-keys.txt']!, 'utf8'), 'a\nb\nc\n');
    assert.equal(store.status('det'), 'present');
    assert.deepEqual(fs.readdirSync(modelDir).sort(), ['det-keys.txt', 'det.onnx'], 'no temp files or other package files left');
  });

  test('concatenates chunks in manifest order although the tarball holds them in another', async () => {
    const { store } = await fixture();
    const file = await store.ensure('big');
    assert.equal(sha(fs.readFileSync(file)), sha(whole));
    assert.equal((await store.verify('big')).ok, true);
  });

  test('streams a package once for every model pulled from it', async () => {
    const { store, spec, events } = await fixture();
    const outcomes = await store.pull(['det', 'big', 'up']);
    assert.deepEqual(outcomes.map((o) => o.ok), [true, true, true]);
    assert.equal(events.filter((e) => e.key === spec && e.phase === 'done').length, 1);
  });

  test('concurrent ensures of one model share one fetch', async () => {
    const { store, spec, events } = await fixture();
    const [a, b] = await Promise.all([store.ensure('det'), store.ensure('det')]);
    assert.equal(a, b);
    assert.equal(events.filter((e) => e.key === spec && e.phase === 'done').length, 1);
  });

  test('converts verified inputs, keeps only the output, and records its digest on first use', async () => {
    const { store, modelDir, converted } = await fixture();
    const file = await store.ensure('up');
    assert.deepEqual(converted, ['up.bin,up.param']);
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), Uint8Array.from([...param, ...bin]));
    assert.deepEqual(fs.readdirSync(modelDir).sort(), ['up.onnx', 'up.onnx.sha256']);
    fs.writeFileSync(file, 'tampered');
    const report = await store.verify('up');
    assert.equal(report.ok, false);
    assert.equal(report.files[0]!.state, 'mismatch');
  });

  test('a converter that throws leaves the model unavailable, with no files behind', async () => {
    const { store, modelDir } = await fixture({ converters: { ...CONVERTERS, ncnn: async () => () => { throw new Error('unsupported layer Foo'); } } });
    const [outcome] = await store.pull(['up']);
    assert.equal(outcome!.ok, false);
    assert.match(!outcome!.ok ? outcome!.error.message : '', /Model up is unavailable: .*unsupported layer Foo/);
    assert.deepEqual(fs.readdirSync(modelDir), []);
  });

  test('refuses a present file whose sha256 differs, naming expected, actual and the remedy', async () => {
    const { store, modelDir } = await fixture();
    await store.ensure('det');
    const fresh = new ModelStore({ ...storeOptions(store, modelDir) });
    const tampered = Uint8Array.from(detect, (b, i) => (i === 10 ? b ^ 1 : b));
    fs.writeFileSync(path.join(modelDir, 'det.onnx'), tampered);
    await assert.rejects(fresh.ensure('det'), (err: unknown) => {
      assert.ok(isAppError(err));
      assert.equal(err.code, 'MODEL_UNAVAILABLE');
      assert.ok(err.message.includes(sha(detect)) && err.message.includes(sha(tampered)), err.message);
      assert.match(err.message, /npm run models -- pull det/);
      return true;
    });
    assert.equal(fresh.status('det'), 'corrupt');
    const [repaired] = await fresh.pull(['det']);
    assert.equal(repaired!.ok, true, 'pull replaces the corrupt file');
    assert.equal(sha(fs.readFileSync(path.join(modelDir, 'det.onnx'))), sha(detect));
  });

  test('a tarball entry that differs from the manifest is refused and nothing is stored', async () => {
    const { store, modelDir } = await fixture({ detectSha: '0'.repeat(64) });
    const [outcome] = await store.pull(['det']);
    assert.equal(outcome!.ok, false);
    assert.match(!outcome!.ok ? outcome!.error.message : '', new RegExp(`has sha256 ${sha(detect)}.*expects ${'0'.repeat(64)}`));
    assert.deepEqual(fs.readdirSync(modelDir), []);
  });

  test('remove deletes the files; unknown ids are named with the known ones', async () => {
    const { store } = await fixture();
    await store.ensure('det');
    await store.remove('det');
    assert.equal(store.status('det'), 'missing');
    await assert.rejects(store.ensure('nope'), (err: unknown) => isAppError(err) && err.code === 'NOT_FOUND' && /det, big, up/.test(err.message));
  });
});

function storeOptions(store: ModelStore, modelDir: string) {
  const models = ['det', 'big', 'up'].map((id) => store.spec(id));
  return { modelDir, manifest: { version: 1, models } as Manifest, logger: pino({ level: 'silent' }), downloadTimeoutMs: 30_000, onProgress: () => undefined };
}

test('a convert source can start from chunks: assembled, verified, converted (fp16-to-fp32), and only the output kept', async () => {
  const half = halfPrecisionModel();
  const parts = [half.slice(0, 40), half.slice(40)];
  const spec = await buildPackage({ 'dist/h0': parts[0]!, 'dist/h1': parts[1]! });
  const manifest: Manifest = { version: 1, models: [model('half', {
    kind: 'convert', converter: 'fp16-to-fp32', file: 'half.onnx',
    from: { kind: 'npm-chunks', package: spec, file: 'half-fp16.onnx', sha256: sha(half), size: half.length,
      chunks: parts.map((c, i) => ({ path: `dist/h${i}`, sha256: sha(c), size: c.length })) },
  })] };
  const modelDir = tempDir('fotofun-models-');
  const store = new ModelStore({ modelDir, manifest, logger: pino({ level: 'silent' }), downloadTimeoutMs: 5000 });
  const [outcome] = await store.pull(['half']);
  assert.equal(outcome!.ok, true, outcome!.ok ? '' : outcome!.error.message);
  assert.deepEqual(fs.readdirSync(modelDir).filter((f) => !f.startsWith('.')).sort(), ['half.onnx', 'half.onnx.sha256']);
  const session = await ort.InferenceSession.create(store.pathFor('half'));
  const out = await session.run({ input: new ort.Tensor('float32', new Float32Array([2, 4, 1024]), [1, 3]) });
  assert.deepEqual([...(out.output!.data as Float32Array)], [5, -3, 1]);
});

/** A one-file package converted by `converter` then `passes`, pulled through a fresh store. */
async function pullConverted(id: string, file: Uint8Array, converter: 'batch-dim' | 'fp16-to-fp32', passes: GraphPass[]) {
  const spec = await buildPackage({ 'model/in.onnx': file });
  const manifest: Manifest = { version: 1, models: [model(id, {
    kind: 'convert', converter, passes, file: `${id}.onnx`,
    from: { kind: 'npm', package: spec, files: [{ path: 'model/in.onnx', file: `${id}-in.onnx`, sha256: sha(file), size: file.length }] },
  })] };
  const store = new ModelStore({ modelDir: tempDir('fotofun-models-'), manifest, logger: pino({ level: 'silent' }), downloadTimeoutMs: 5000 });
  const [outcome] = await store.pull([id]);
  return { store, outcome: outcome! };
}

test('graph passes run after the converter, in the store\'s worker: keep-outputs prunes to the outputs it names', async () => {
  const g = new GraphBuilder('two-heads');
  g.input('input', 'float32', [1, 3]);
  g.op('Mul', ['input', g.initializer('two', [1], new Float32Array([2]))], {}, 'a');
  g.op('Add', ['input', g.initializer('one', [1], new Float32Array([1]))], {}, 'b');
  g.output('a', 'float32', [1, 3]);
  g.output('b', 'float32', [1, 3]);
  const { store, outcome } = await pullConverted('two', g.toBytes(), 'batch-dim', [{ pass: 'keep-outputs', outputs: ['a'] }]);
  assert.equal(outcome.ok, true, outcome.ok ? '' : outcome.error.message);
  const graph = onnxProto.onnx.ModelProto.decode(fs.readFileSync(store.pathFor('two'))).graph!;
  assert.deepEqual(graph.output!.map((o) => o.name), ['a']);
  assert.deepEqual(graph.initializer!.map((t) => t.name), ['two']);
  assert.deepEqual(graph.node!.map((n) => n.opType), ['Mul']);
  const session = await ort.InferenceSession.create(store.pathFor('two'));
  const out = await session.run({ input: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]) });
  assert.deepEqual([...(out.a!.data as Float32Array)], [2, 4, 6, 8, 10, 12]);
});

test('keep-outputs naming an output the graph lacks fails the pull, naming the outputs it has', async () => {
  const { outcome } = await pullConverted('half', halfPrecisionModel(), 'fp16-to-fp32', [{ pass: 'keep-outputs', outputs: ['mask'] }]);
  assert.equal(outcome.ok, false);
  assert.match(!outcome.ok ? outcome.error.message : '', /no output mask \(it has output\)/);
});
