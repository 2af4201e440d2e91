/**
 * Plain tensors that cross worker-thread boundaries: no onnxruntime types, so tasks, the image
 * layer and the scheduler never import onnxruntime. `data`'s buffer is transferred, not copied.
 */
export type TensorType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface TensorLike {
  type: TensorType;
  dims: number[];
  data: TensorData;
}

export type Feeds = Record<string, TensorLike>;
export type Outputs = Record<string, TensorLike>;

export function float32(data: Float32Array, dims: number[]): TensorLike {
  return { type: 'float32', data, dims };
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A copy whose buffers can be transferred to a worker while the originals stay usable. */
export function cloneFeeds(feeds: Feeds): Feeds {
  return Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, { ...t, dims: [...t.dims], data: t.data.slice() }]));
}
