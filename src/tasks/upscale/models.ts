/**
 * The upscaler families the task offers. A family maps each native scale to a model id in
 * models.manifest.json; every model takes `data` [1,3,h,w] RGB 0..1 and gives `output`
 * [1,3,s·h,s·w].
 */
export interface UpscalerFamily {
  /** Native scale → model id. */
  variants: Readonly<Record<number, string>>;
  /**
   * Peak RSS of one session.run() above the loaded session, per input pixel: onnxruntime-node
   * 1.30 on CPU, tiles of 128²–512² (x4plus 64²–256²), flat across sizes within ±5%. Sizes
   * tiles so a run stays in its memory budget.
   */
  bytesPerInputPixel: number;
  /** Default seam context in input pixels, measured per network below. */
  tilePad: number;
  description: string;
}

/**
 * The RRDB networks see much further than the compact ones. x4plus, 320×200 photo, 192² tiles:
 * tilePad 12 left 2.2% of pixels beyond 2/255 of a single pass (worst 28/255), 32 left 0.28%
 * (16/255), 40 left 0.048% (8/255). x4plus-anime shares the RRDB design and gets the same pad.
 */
const RRDB_TILE_PAD = 40;
/** x4fast, 768×512 photo, 512² tiles: 0.0047% beyond 2/255 of a single pass, worst 5/255. */
const COMPACT_TILE_PAD = 12;

export const UPSCALERS = {
  'realesrgan-x4fast': {
    variants: { 4: 'realesrgan-x4fast' },
    bytesPerInputPixel: 2_100,
    tilePad: COMPACT_TILE_PAD,
    description: 'Real-ESRGAN compact network (SRVGG, 34 convolutions) for photos: fast, the CPU default',
  },
  'realesrgan-x4plus': {
    variants: { 4: 'realesrgan-x4plus' },
    bytesPerInputPixel: 28_000,
    tilePad: RRDB_TILE_PAD,
    description: 'Real-ESRGAN RRDB network (23 blocks) for photos: best quality, ~15× slower, the GPU default',
  },
  'realesrgan-x4plus-anime': {
    variants: { 4: 'realesrgan-x4plus-anime' },
    bytesPerInputPixel: 27_000,
    tilePad: RRDB_TILE_PAD,
    description: 'Real-ESRGAN RRDB network (6 blocks) tuned for anime and illustrations',
  },
  'realesr-animevideov3': {
    variants: { 2: 'realesr-animevideov3-x2', 3: 'realesr-animevideov3-x3', 4: 'realesr-animevideov3-x4' },
    bytesPerInputPixel: 2_100,
    tilePad: COMPACT_TILE_PAD,
    description: 'Real-ESRGAN compact anime-video network with native ×2, ×3 and ×4 variants',
  },
} as const satisfies Record<string, UpscalerFamily>;

export type UpscalerName = keyof typeof UPSCALERS;
export const UPSCALER_NAMES = Object.keys(UPSCALERS) as [UpscalerName, ...UpscalerName[]];

/** CPU: x4plus costs ≈6.9 s per 256² tile against ≈0.5 s for x4fast (MODELS.md), so x4fast. */
export function defaultUpscaler(device: 'cpu' | 'gpu'): UpscalerName {
  return device === 'gpu' ? 'realesrgan-x4plus' : 'realesrgan-x4fast';
}

/**
 * Real-ESRGAN's denoise strength exists only for realesr-general-x4v3 (blended with its
 * realesr-general-wdn-x4v3 twin); none of the families here has it.
 */
export const DENOISE_MODELS = ['realesr-general-x4v3'] as const;
