import { halfToFloat } from '../half.js';
import { TfjsFormatError, type GraphModelJson, type WeightEntry } from './model-json.js';

export type ConstData = Float32Array | Int32Array | Uint8Array;
export type DType = 'float32' | 'int32' | 'int64' | 'bool';

/** A constant: its values in row-major order and its shape. */
export interface ConstTensor {
  dtype: DType;
  shape: number[];
  data: ConstData;
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function storedBytes(w: WeightEntry): number {
  const n = count(w.shape);
  const q = w.quantization?.dtype;
  if (q === 'uint8') return n;
  if (q === 'float16' || q === 'uint16') return 2 * n;
  return w.dtype === 'bool' ? n : 4 * n;
}

/** Copies `n` bytes out of the shards so typed arrays start aligned. */
function slice(bytes: Uint8Array, offset: number, n: number): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + n) as ArrayBuffer;
}

/**
 * float16 widens exactly; uint8/uint16 affine quantisation is `q · scale + min`, as TF.js's
 * `decodeWeights` defines it. Quantised int32 weights round to the nearest integer.
 */
function decode(w: WeightEntry, buf: ArrayBuffer, model: string): ConstTensor {
  const q = w.quantization;
  if (w.dtype === 'bool') return { dtype: 'bool', shape: w.shape, data: new Uint8Array(buf) };
  if (!q) return { dtype: w.dtype, shape: w.shape, data: w.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf) };
  let values: Float32Array;
  if (q.dtype === 'float16') values = halfToFloat(new Uint16Array(buf));
  else {
    if (q.scale === undefined || q.min === undefined) throw new TfjsFormatError(`${model}: weight ${w.name} is ${q.dtype}-quantised without min and scale`);
    const raw = q.dtype === 'uint8' ? new Uint8Array(buf) : new Uint16Array(buf);
    values = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) values[i] = (raw[i] as number) * q.scale + q.min;
  }
  if (w.dtype === 'int32') return { dtype: 'int32', shape: w.shape, data: Int32Array.from(values, Math.round) };
  return { dtype: 'float32', shape: w.shape, data: values };
}

/**
 * Every constant of the model by node name. The shards of a group are one byte stream
 * (concatenated in `paths` order) holding the group's weights back to back; every byte must be
 * accounted for, so a truncated or mismatched `.bin` fails here rather than as wrong outputs.
 */
export function readWeights(json: GraphModelJson, shards: ReadonlyMap<string, Uint8Array>, model: string): Map<string, ConstTensor> {
  const out = new Map<string, ConstTensor>();
  for (const group of json.weightsManifest) {
    const parts = group.paths.map((p) => {
      const bytes = shards.get(p.split('/').pop()!);
      if (!bytes) throw new TfjsFormatError(`${model}: weight shard ${p} is missing (have: ${[...shards.keys()].join(', ') || 'none'})`);
      return bytes;
    });
    const total = parts.reduce((s, p) => s + p.length, 0);
    const stream = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    let offset = 0;
    for (const w of group.weights) {
      const n = storedBytes(w);
      if (offset + n > total) throw new TfjsFormatError(`${model}: weight ${w.name} needs bytes ${offset}..${offset + n} but the shards hold ${total}`);
      out.set(w.name, decode(w, slice(stream, offset, n), model));
      offset += n;
    }
    if (offset !== total) throw new TfjsFormatError(`${model}: the shards ${group.paths.join(', ')} hold ${total} bytes, the manifest's weights ${offset}`);
  }
  return out;
}
