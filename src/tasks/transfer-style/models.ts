/**
 * The style models' contracts. Presets are the ONNX model zoo's fast-neural-style networks
 * (Johnson et al. 2016, one style each): `input1` [1,3,224,224] RGB 0..255 → `output1`, same shape
 * and range. Arbitrary styles use AdaIN (Huang & Belongie 2017) as naoto0804/pytorch-AdaIN trains
 * it, exported in two parts: the normalised VGG-19 up to relu4_1 (`image` [1,3,H,W] RGB 0..1, sides
 * multiples of 8 → `features` [1,512,H/8,W/8]) and its decoder (`features` → `image` [1,3,H,W] 0..1).
 */
export const STYLE_PRESETS = ['mosaic', 'candy', 'rain-princess', 'udnie', 'pointilism'] as const;
export type StylePreset = (typeof STYLE_PRESETS)[number];

export const presetModelId = (preset: StylePreset) => `fast-neural-style-${preset}`;

export const PRESET_CONTRACT = { input: 'input1', output: 'output1', size: 224 } as const;

export const ADAIN = {
  encoder: 'adain-vgg-encoder',
  decoder: 'adain-decoder',
  /** VGG-19 to relu4_1 pools three times. */
  stride: 8,
  channels: 512,
  encoderInput: 'image',
  encoderOutput: 'features',
  decoderInput: 'features',
  decoderOutput: 'image',
} as const;
