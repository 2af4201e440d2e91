import * as ort from 'onnxruntime-node';
import { realConvertInputs } from '../kit/convert-inputs.js';
import { toHalf } from '../kit/numbers.js';

export { values } from '../kit/numbers.js';

/** Writes small ncnn models for converter tests: `.param` lines and a `.bin` built in layer order. */
export function paramText(layers: string[], blobCount: number): string {
  return ['7767517', `${layers.length} ${blobCount}`, ...layers].join('\n') + '\n';
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
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

export interface NcnnFiles {
  param: string;
  bin: Uint8Array;
}

/** The `.param` and `.bin` inputs of the manifest's ncnn-converted models (see realConvertInputs). */
export async function realNcnnFiles(ids: string[]): Promise<Map<string, NcnnFiles>> {
  const inputs = await realConvertInputs(ids);
  const pick = (files: Map<string, Uint8Array>, ext: string) => [...files].find(([name]) => name.endsWith(ext))![1];
  return new Map([...inputs].map(([id, files]) => [id, { param: new TextDecoder().decode(pick(files, '.param')), bin: pick(files, '.bin') }]));
}
