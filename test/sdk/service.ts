import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { ManifestSchema, loadManifest, type Manifest } from '../../src/models/manifest.js';
import { startService, type Service } from '../../src/service.js';
import { negativeGfpgan, nearestX4 } from '../enhance-face/tiny-restorers.js';
import { tinyCenterNet } from '../detect-objects/tiny-detectors.js';
import { tinyFaceModels } from '../face/tiny-face-models.js';
import { meanDepthModel } from '../estimate-depth/tiny-depth.js';
import { TINY_KEYS, alwaysTurnedClassifier, darkColumnRecogniser, darkMapDetector } from '../ocr/tiny-ocr-models.js';
import { darkIsSubjectModel } from '../remove-background/kit.js';

/** The one face the tiny detector finds, in the middle of any photo. */
export const FACE = { box: [0.3, 0.25, 0.7, 0.8] as [number, number, number, number], score: 0.95 };

/** Files per model id (the first is the ONNX file, named like the shipped manifest's). */
function tinyWeights(): Record<string, Record<string, Uint8Array>> {
  const faces = tinyFaceModels([FACE]);
  const onnx = (id: string, bytes: Uint8Array) => ({ [`${id}.onnx`]: bytes });
  return {
    'isnet-general': onnx('isnet-general', darkIsSubjectModel()),
    'isnet-general-int8': onnx('isnet-general-int8', darkIsSubjectModel()),
    'realesrgan-x4fast': onnx('realesrgan-x4fast', nearestX4()),
    'face-detect': { 'face-detect.onnx': faces['face-detect']! },
    'face-landmark': onnx('face-landmark', faces['face-landmark']!),
    'face-embed': onnx('face-embed', faces['face-embed']!),
    'face-antispoof': onnx('face-antispoof', faces['face-antispoof']!),
    'face-age': onnx('face-age', faces['face-age']!),
    'face-gender': onnx('face-gender', faces['face-gender']!),
    'face-pose': onnx('face-pose', faces['face-pose']!),
    'face-expression': onnx('face-expression', faces['face-expression']!),
    centernet: onnx('centernet', tinyCenterNet([[100, 120, 300, 400, 0.9, 0]])),
    'depth-anything-v2-small': onnx('depth-anything-v2-small', meanDepthModel()),
    'ocr-det': onnx('ocr-det', darkMapDetector()),
    'ocr-rec': { 'ocr-rec.onnx': darkColumnRecogniser(), 'ocr-rec-keys.txt': new TextEncoder().encode(TINY_KEYS) },
    'ocr-cls': onnx('ocr-cls', alwaysTurnedClassifier()),
    gfpgan: { 'gfpgan.onnx': negativeGfpgan() },
  };
}

/**
 * The shipped manifest with the tiny models' files in place of the real weights (as present npm
 * files with their sha256, so the store verifies them and never fetches), the rest left absent.
 */
function tinyServiceManifest(modelDir: string): Manifest {
  const weights = tinyWeights();
  const shipped = loadManifest();
  return ManifestSchema.parse({
    ...shipped,
    models: shipped.models.map((m) => {
      const files = weights[m.id];
      if (!files) return m;
      const listed = Object.entries(files).map(([file, bytes]) => {
        fs.writeFileSync(path.join(modelDir, file), bytes);
        return { path: file, file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
      });
      return { ...m, memoryMB: 16, source: { kind: 'npm', package: `@fotofun/tiny-${m.id}@0.0.0`, files: listed } };
    }),
  });
}

export interface TestService {
  url: string;
  service: Service;
  close(): Promise<void>;
}

/** The whole service as `npm start` wires it (jobs, faces, models, identity off), on tiny weights. */
export async function startTinyService(env: Record<string, string> = {}): Promise<TestService> {
  const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fotofun-sdk-models-'));
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PULL_MODELS_ON_START: 'false', DEVICE: 'cpu',
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'fotofun-sdk-data-')), MODEL_DIR: modelDir, ...env,
  });
  const service = await startService(config, createLogger('silent'), { manifest: tinyServiceManifest(modelDir) });
  await service.ready;
  const url = `http://127.0.0.1:${(service.server.address() as { port: number }).port}`;
  return { url, service, close: () => service.shutdown() };
}
