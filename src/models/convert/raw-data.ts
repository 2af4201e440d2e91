import type onnxProto from 'onnx-proto';

/**
 * A tensor's raw_data as an ArrayBuffer of its own, or undefined when the values are in the typed
 * fields instead. protobufjs hands raw_data as a view into the whole decoded file, at an offset
 * no typed array may start from, so it is copied out.
 */
export function rawBuffer(t: onnxProto.onnx.ITensorProto): ArrayBuffer | undefined {
  const raw = t.rawData;
  if (!raw || raw.length === 0) return undefined;
  return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
}

/** A float tensor's values, from raw_data or float_data. */
export function floatValues(t: onnxProto.onnx.ITensorProto): Float32Array {
  const raw = rawBuffer(t);
  return raw ? new Float32Array(raw) : Float32Array.from(t.floatData ?? []);
}
