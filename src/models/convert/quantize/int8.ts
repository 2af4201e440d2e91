import onnxProto from 'onnx-proto';
import type { GraphPass } from '../../manifest.js';
import { widenFp16Model } from '../fp16-to-fp32.js';
import { applyGraphPasses } from '../graph-passes.js';
import { calibrationTensors, measureRanges, type CalibrationInput } from './calibrate.js';
import { activationTensors, dropFloatCasts, quantiseQdq } from './qdq.js';

const { onnx } = onnxProto;

export interface Int8Options {
  /** Rewrites of the fp32 graph before it is calibrated and quantised. */
  passes: readonly GraphPass[];
  /** The folder of calibration photos and how the model reads them. */
  calibration: { dir: string; input: CalibrationInput };
}

/**
 * An fp16 or fp32 ONNX model as static QDQ int8: widened, rewritten by `passes`, run on the
 * calibration photos to measure every activation's range, then quantised (src/models/convert/
 * quantize/qdq.ts). Deterministic for the same inputs, so the result's checksum can be pinned.
 */
export async function quantiseInt8(bytes: Uint8Array, opts: Int8Options): Promise<Uint8Array> {
  const model = onnx.ModelProto.decode(applyGraphPasses(widenFp16Model(bytes), opts.passes));
  const graph = model.graph;
  if (!graph) throw new Error('int8: the file holds no graph');
  dropFloatCasts(graph);
  const tensors = activationTensors(graph);
  const images = await calibrationTensors(opts.calibration.dir, opts.calibration.input);
  const ranges = await measureRanges(model, tensors, opts.calibration.input, images);
  quantiseQdq(graph, ranges);
  return onnx.ModelProto.encode(model).finish();
}
