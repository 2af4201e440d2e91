import { GraphBuilder } from '../kit/onnx.js';

/** Depth Anything's signature; the "depth" is the mean of the normalised channels, a known function of the photo. */
export function meanDepthModel(): Uint8Array {
  const g = new GraphBuilder('tiny-depth', 13);
  g.input('pixel_values', 'float32', [1, 3, 'h', 'w']);
  g.op('ReduceMean', ['pixel_values'], { axes: [1], keepdims: 0 }, 'predicted_depth');
  g.output('predicted_depth', 'float32', [1, 'h', 'w']);
  return g.toBytes();
}
