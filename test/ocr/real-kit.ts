import fs from 'node:fs';
import { directRunner } from '../kit/direct-runner.js';
import { realModelFiles, realModelPath } from '../kit/real-models.js';
import { OCR_MODELS, REC } from '../../src/tasks/ocr/models.js';
import type { ModelRunner } from '../../src/models/runner.js';

/** The three real PP-OCRv4 models and the character list, fetched through the model store. */
export async function realOcrRunner(): Promise<ModelRunner> {
  const models: Record<string, Uint8Array> = {};
  for (const id of Object.values(OCR_MODELS)) models[id] = fs.readFileSync(await realModelPath(id));
  const keys = fs.readFileSync((await realModelFiles(OCR_MODELS.rec))[REC.keysFile]!);
  return directRunner(models, { [OCR_MODELS.rec]: { [REC.keysFile]: keys } });
}
